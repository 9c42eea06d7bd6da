extension ScopeImplication {
    /// A cycle in `edges` (built-ins not added), as the path that closes it
    /// (`[A, B, A]`), or `nil` when there is none. The policy loader uses it to
    /// report which scopes to fix.
    public static func cycle(in edges: [Scope: [Scope]]) -> [Scope]? {
        var state: [Scope: VisitState] = [:]
        var path: [Scope] = []
        // Sorted so the reported cycle is the same on every run.
        for start in edges.keys.sorted() where state[start] == nil {
            if let cycle = findCycle(from: start, edges: edges, state: &state, path: &path) {
                return cycle
            }
        }
        return nil
    }

    private enum VisitState { case onPath, done }

    private static func findCycle(
        from scope: Scope, edges: [Scope: [Scope]],
        state: inout [Scope: VisitState], path: inout [Scope]
    ) -> [Scope]? {
        state[scope] = .onPath
        path.append(scope)
        for next in edges[scope] ?? [] {
            switch state[next] {
            case .onPath:
                let start = path.lastIndex(of: next)!
                return Array(path[start...]) + [next]
            case .done:
                continue
            case nil:
                if let cycle = findCycle(from: next, edges: edges, state: &state, path: &path) {
                    return cycle
                }
            }
        }
        path.removeLast()
        state[scope] = .done
        return nil
    }

    /// The reachable set of every edge source, by memoised depth-first search.
    /// Needs an acyclic graph (checked before).
    static func transitiveClosures(of edges: [Scope: [Scope]]) -> [Scope: ScopeSet] {
        var memo: [Scope: Set<Scope>] = [:]
        func reach(_ scope: Scope) -> Set<Scope> {
            if let known = memo[scope] { return known }
            var result: Set<Scope> = [scope]
            for next in edges[scope] ?? [] { result.formUnion(reach(next)) }
            memo[scope] = result
            return result
        }
        var closures: [Scope: ScopeSet] = [:]
        for source in edges.keys { closures[source] = ScopeSet(reach(source)) }
        return closures
    }
}
