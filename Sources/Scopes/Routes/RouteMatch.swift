/// The rule a request matched, with the path parameters it captured.
public struct RouteMatch: Hashable, Sendable {
    public let rule: RouteRule
    private let captured: Captured

    /// Parameters as given, or the matched path to read them from on demand.
    private enum Captured: Sendable {
        case listed([PathParameter])
        /// The raw path after its leading `/`; `rule.path` matches it.
        case path(Substring)
    }

    public init(rule: RouteRule, parameters: [PathParameter]) {
        self.rule = rule
        self.captured = .listed(parameters)
    }

    /// A match of `rule` on `path` (after its leading `/`), found by `RouteTable`.
    init(rule: RouteRule, matchedPath path: Substring) {
        self.rule = rule
        self.captured = .path(path)
    }

    /// In template order, the rest parameter last.
    public var parameters: [PathParameter] {
        switch captured {
        case .listed(let parameters): return parameters
        case .path(let path):
            var parameters: [PathParameter] = []
            rule.path.forEachParameter(in: path) { name, value in
                parameters.append(PathParameter(name: name, rawValue: value))
                return true
            }
            return parameters
        }
    }

    /// The raw value of the parameter called `name`.
    public subscript(parameter name: String) -> Substring? {
        switch captured {
        case .listed(let parameters): return parameters.first { $0.name == name }?.rawValue
        case .path(let path):
            var found: Substring?
            rule.path.forEachParameter(in: path) { candidate, value in
                guard candidate == name else { return true }
                found = value
                return false
            }
            return found
        }
    }

    public static func == (lhs: RouteMatch, rhs: RouteMatch) -> Bool {
        lhs.rule == rhs.rule && lhs.parameters == rhs.parameters
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rule)
        hasher.combine(parameters)
    }
}

extension PathTemplate {
    /// Calls `body` with each parameter's name and raw value in a path this
    /// template matches (given after its leading `/`), in template order, until
    /// `body` returns false. The segments are split as `RouteTable` split them.
    func forEachParameter(in path: Substring, _ body: (String, Substring) -> Bool) {
        var remaining: Substring? = path
        for segment in segments {
            if case .rest(let name) = segment {
                _ = body(name, remaining ?? "")
                return
            }
            guard let current = remaining else { return }
            let slash = current.utf8.firstIndex(of: UInt8(ascii: "/"))
            if case .parameter(let name) = segment, !body(name, slash.map { current[..<$0] } ?? current) { return }
            remaining = slash.map { current[current.utf8.index(after: $0)...] }
        }
    }
}
