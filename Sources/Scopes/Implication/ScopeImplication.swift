/// Which scopes imply which, with the transitive closure computed once.
///
/// The built-in Connect implications (docs/policies.md §8, docs/protocols.md §5) are always
/// present; `scopes.json` may add edges. A scope that appears in no edge implies
/// only itself. Built once when a policy is loaded, then shared read-only.
public struct ScopeImplication: Sendable {
    /// The direct edges, built-ins included.
    public let edges: [Scope: [Scope]]
    /// Every scope each edge source reaches, itself included.
    private let closures: [Scope: ScopeSet]

    /// The built-in Connect edges.
    public static let builtInEdges: [Scope: [Scope]] = [
        "READ": ["NONE"],
        "WRITE": ["READ"],
        "DELETE": ["WRITE"],
        "PROJECT_ADMIN": ["DELETE"],
        "SPACE_ADMIN": ["DELETE"],
        "ADMIN": ["PROJECT_ADMIN", "SPACE_ADMIN"],
    ]

    /// The built-in Connect implications and nothing else.
    public static let builtIn: ScopeImplication = {
        do { return try ScopeImplication(implies: [:]) } catch { fatalError("built-in scopes form a cycle: \(error)") }
    }()

    /// Builds the implication from the built-ins plus `extra` edges
    /// (`scopes.json` `implies`).
    ///
    /// - Throws: `ScopesError.Code.implicationCycle` when the edges form a cycle;
    ///   the reason spells the cycle out (`A → B → A`).
    public init(implies extra: [Scope: [Scope]]) throws(ScopesError) {
        let all = ScopeImplication.merging(extra)
        if let cycle = ScopeImplication.cycle(in: all) {
            throw ScopesError(
                .implicationCycle,
                "scopes imply each other in a cycle: "
                    + cycle.map(\.name).joined(separator: " → "))
        }
        edges = all
        closures = ScopeImplication.transitiveClosures(of: all)
    }

    /// Every scope `scope` implies, itself included.
    public func closure(of scope: Scope) -> ScopeSet {
        closures[scope] ?? ScopeSet([scope])
    }

    /// Every scope any member of `scopes` implies, the members included.
    public func closure(of scopes: ScopeSet) -> ScopeSet {
        // One held scope is the common case (a Connect app with one scope, a
        // token narrowed to one): hand back the precomputed set without copying.
        var iterator = scopes.makeIterator()
        guard let first = iterator.next() else { return .empty }
        var result = closure(of: first)
        while let next = iterator.next() { result = result.union(closure(of: next)) }
        return result
    }

    /// Whether holding `held` gives `wanted`, directly or through implication.
    public func implies(_ held: Scope, _ wanted: Scope) -> Bool {
        held == wanted || (closures[held]?.contains(wanted) ?? false)
    }

    private static func merging(_ extra: [Scope: [Scope]]) -> [Scope: [Scope]] {
        var all = builtInEdges
        for (source, targets) in extra {
            var merged = all[source] ?? []
            for target in targets where !merged.contains(target) { merged.append(target) }
            all[source] = merged
        }
        return all
    }
}
