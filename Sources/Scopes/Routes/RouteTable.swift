/// Every route rule, compiled into a trie over path segments so finding the
/// rule for a request costs a few lookups per segment, whatever the number of
/// rules.
///
/// The most specific rule wins, compared segment by segment from the left: a
/// literal beats `{name}`, which beats `{name*}`; a rule ending exactly where
/// the path ends beats a `{name*}` that would match nothing. A rule whose path
/// matches but whose methods do not is passed over, and a less specific rule
/// may then match; when none does, the request has no route (404, docs/policies.md §7:
/// there is no 405). Two rules with the same shape (parameter names aside)
/// and a method in common would tie: that is a compile error.
public struct RouteTable: Sendable {
    /// The rules as given.
    public var rules: [RouteRule] { compiled.rules }
    /// Everything behind one reference: a decision copies the table into its
    /// route check, and one retain is cheaper than six.
    let compiled: Compiled

    final class Compiled: Sendable {
        let rules: [RouteRule]
        let nodes: [Node]
        /// Every node's literal edges, keyed by bytes (see `LiteralEdges`).
        let literalEdges: LiteralEdges
        /// Every node's `rules`, concatenated (`Node.ending` indexes it), so picking
        /// the rule at a node reads plain integers.
        let endingRules: [Int32]
        /// Per rule, the methods it allows as bits (`MethodBits`).
        let methodBits: [MethodBits]

        init(rules: [RouteRule], nodes: [Node], literalEdges: LiteralEdges, endingRules: [Int32]) {
            self.rules = rules
            self.nodes = nodes
            self.literalEdges = literalEdges
            self.endingRules = endingRules
            self.methodBits = rules.map { MethodBits(allowing: $0.methods) }
        }
    }

    struct Node: Sendable {
        /// Every literal child by its UTF-8 bytes, for building the trie; searches
        /// use `literalEdges`. Bytes, not `String`s: Swift's string equality is
        /// canonical equivalence, and a gateway must route on the bytes it forwards.
        var literals: [[UInt8]: Int] = [:]
        var parameter: Int?
        var rest: Int?
        /// Positions in `rules` of the rules ending here.
        var rules: [Int] = []
        /// Where `rules` sits in `endingRules`.
        var ending: Range<Int> = 0..<0
    }

    /// Compiles `rules`.
    ///
    /// - Throws: the first of `problems(in:)`, a `ScopesError.Code.routeTie`.
    public init(_ rules: [RouteRule]) throws(ScopesError) {
        var (nodes, problems) = RouteTable.compile(rules)
        if let first = problems.first { throw first }
        var literalEdges = LiteralEdges(capacity: nodes.count)
        var endingRules: [Int32] = []
        for parent in nodes.indices {
            for (literal, child) in nodes[parent].literals {
                literalEdges.insert(parent: parent, literal: literal, child: child)
            }
            nodes[parent].ending = endingRules.count..<(endingRules.count + nodes[parent].rules.count)
            endingRules += nodes[parent].rules.map { Int32($0) }
        }
        compiled = Compiled(rules: rules, nodes: nodes, literalEdges: literalEdges, endingRules: endingRules)
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
        let request = MethodBits(requesting: method)
        let compiled = compiled
        let position =
            path.utf8.withContiguousStorageIfAvailable { bytes in
                compiled.search(0, 1, SearchInput(bytes: bytes, method: method, methodBit: request))
            }
            ?? Array(path.utf8).withUnsafeBufferPointer { bytes in
                compiled.search(0, 1, SearchInput(bytes: bytes, method: method, methodBit: request))
            }
        guard let position else { return nil }
        // Parameters are read off the path when asked for: a decision needs one
        // or two of them by name, and building the list would cost an allocation.
        return RouteMatch(rule: compiled.rules[position], matchedPath: path.dropFirst())
    }

    private static func compile(_ rules: [RouteRule]) -> (nodes: [Node], problems: [ScopesError]) {
        var nodes = [Node()]
        var problems: [ScopesError] = []
        for (position, rule) in rules.enumerated() {
            let terminal = insert(rule.path, into: &nodes)
            for other in nodes[terminal].rules {
                let shared = rules[other].methods.filter { rule.methods.contains($0) }
                guard !shared.isEmpty else { continue }
                problems.append(
                    ScopesError(
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
            case .literal(let text): existing = nodes[current].literals[Array(text.utf8)]
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
            case .literal(let text): nodes[current].literals[Array(text.utf8)] = child
            case .parameter: nodes[current].parameter = child
            case .rest: nodes[current].rest = child
            }
            current = child
        }
        return current
    }
}
