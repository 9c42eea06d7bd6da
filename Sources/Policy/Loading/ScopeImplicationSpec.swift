/// One entry of `scopes.json`: holding `scope` also grants each of `implies`.
public struct ScopeImplicationSpec: Sendable, Equatable {
    /// Connect names upper-cased; others as written.
    public var scope: String
    public var implies: [String]
    public var source: PolicyLocation

    public init(scope: String, implies: [String], source: PolicyLocation) {
        self.scope = scope
        self.implies = implies
        self.source = source
    }
}

/// Reads the optional `scopes.json` and checks that implications, together
/// with the built-in Connect ones, form no cycle.
enum ScopesFile {
    static let name = "scopes.json"

    /// The implications: empty without the file, `nil` when it exists but cannot be used.
    static func read(_ folder: PolicyFolder) -> [ScopeImplicationSpec]? {
        guard folder.contents(of: name) != nil else { return [] }
        guard let root = folder.readJSON(name, required: false), let object = root.object(keys: ["implies"]),
            let members = object.required("implies")?.members
        else { return nil }
        return members.compactMap { key, reader in
            guard !key.isEmpty else {
                reader.report("a scope name must not be empty")
                return nil
            }
            guard let implied = reader.nonEmptyStrings else { return nil }
            return ScopeImplicationSpec(
                scope: ScopeNames.canonical(key), implies: implied.map(ScopeNames.canonical), source: reader.location)
        }
    }

    /// Reports each implication that closes a cycle, at the entry whose edge
    /// closes it. A cycle would make every scope on it imply all the others,
    /// which is surely not what the author meant.
    static func checkCycles(_ specs: [ScopeImplicationSpec], log: ProblemLog) {
        var edges = ScopeNames.connectImplications
        for spec in specs { edges[spec.scope, default: []].append(contentsOf: spec.implies) }
        let sources = Dictionary(specs.map { ($0.scope, $0.source) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Bool] = [:]  // false: on the current path; true: finished
        var reported: Set<String> = []

        func visit(_ scope: String, path: [String]) {
            state[scope] = false
            for next in edges[scope] ?? [] {
                switch state[next] {
                case false?:
                    let cycle = Array(path.drop(while: { $0 != next })) + [scope]
                    // Built-in edges have no file; blame the last scopes.json entry on the cycle.
                    if let culprit = cycle.last(where: { sources[$0] != nil }), reported.insert(culprit).inserted {
                        let text = (cycle + [next]).joined(separator: " → ")
                        log.report(sources[culprit]!, "scope implications form a cycle: \(text)")
                    }
                case true?: continue
                case nil: visit(next, path: path + [scope])
                }
            }
            state[scope] = true
        }
        for scope in edges.keys.sorted() where state[scope] == nil { visit(scope, path: []) }
    }
}
