/// Every route rule, compiled into a trie over path segments so finding the
/// rule for a request costs a few lookups per segment, whatever the number of
/// rules.
///
/// The most specific rule wins, compared segment by segment from the left: a
/// literal beats `{name}`, which beats `{name*}`; a rule ending exactly where
/// the path ends beats a `{name*}` that would match nothing. A rule whose path
/// matches but whose methods do not is passed over, and a less specific rule
/// may then match; when none does, the request has no route (404, CONTRACT §2:
/// there is no 405). Two rules with the same shape (parameter names aside)
/// and a method in common would tie: that is a compile error.
public struct RouteTable: Sendable {
    /// The rules as given.
    public let rules: [RouteRule]
    let nodes: [Node]

    struct Node: Sendable {
        var literals: [Substring: Int] = [:]
        var parameter: Int?
        var rest: Int?
        /// Positions in `rules` of the rules ending here.
        var rules: [Int] = []
    }

    /// Compiles `rules`.
    ///
    /// - Throws: the first of `problems(in:)`, a `ScopesError.Code.routeTie`.
    public init(_ rules: [RouteRule]) throws(ScopesError) {
        let (nodes, problems) = RouteTable.compile(rules)
        if let first = problems.first { throw first }
        self.rules = rules
        self.nodes = nodes
    }

    /// Every tie among `rules`, each with the `ruleIndex` of the later rule, so
    /// `linkgate check` can report them all at once.
    public static func problems(in rules: [RouteRule]) -> [ScopesError] {
        compile(rules).problems
    }

    /// The rule for `method` on a raw path (still percent-encoded, without the
    /// query), or `nil` when none matches. A path not starting with `/` matches nothing.
    public func match(method: some StringProtocol, path: Substring) -> RouteMatch? {
        guard path.first == "/" else { return nil }
        var captures: [Substring] = []
        guard let position = search(0, path[path.utf8.index(after: path.startIndex)...], method, &captures) else { return nil }
        let rule = rules[position]
        let parameters = zip(rule.path.parameterNames, captures).map { PathParameter(name: $0, rawValue: $1) }
        return RouteMatch(rule: rule, parameters: parameters)
    }

    private static func compile(_ rules: [RouteRule]) -> (nodes: [Node], problems: [ScopesError]) {
        var nodes = [Node()]
        var problems: [ScopesError] = []
        for (position, rule) in rules.enumerated() {
            let terminal = insert(rule.path, into: &nodes)
            for other in nodes[terminal].rules {
                let shared = rules[other].methods.filter { rule.methods.contains($0) }
                guard !shared.isEmpty else { continue }
                problems.append(ScopesError(
                    .routeTie,
                    "route #\(rule.index) (\(rule.path)) and route #\(rules[other].index) (\(rules[other].path)) "
                        + "match the same requests for \(shared.joined(separator: ", "))",
                    ruleIndex: rule.index))
            }
            nodes[terminal].rules.append(position)
        }
        return (nodes, problems)
    }

    /// Walks or extends the trie along `template`; returns the node it ends at.
    private static func insert(_ template: PathTemplate, into nodes: inout [Node]) -> Int {
        var current = 0
        for segment in template.segments {
            let existing: Int?
            switch segment {
            case .literal(let text): existing = nodes[current].literals[Substring(text)]
            case .parameter: existing = nodes[current].parameter
            case .rest: existing = nodes[current].rest
            }
            if let existing {
                current = existing
                continue
            }
            nodes.append(Node())
            let child = nodes.count - 1
            switch segment {
            case .literal(let text): nodes[current].literals[Substring(text)] = child
            case .parameter: nodes[current].parameter = child
            case .rest: nodes[current].rest = child
            }
            current = child
        }
        return current
    }
}
