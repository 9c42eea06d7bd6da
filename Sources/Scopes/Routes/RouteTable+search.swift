extension RouteTable {
    /// Depth-first search in precedence order (literal, then `{name}`, then
    /// `{name*}`), so the first rule found is the most specific one. `remaining`
    /// is the path after the last `/` consumed; `nil` once every segment is used.
    /// Captured raw values are pushed on `captures` in template order.
    func search(
        _ nodeIndex: Int, _ remaining: Substring?, _ method: some StringProtocol,
        _ captures: inout [Substring]
    ) -> Int? {
        let node = nodes[nodeIndex]
        guard let remaining else {
            if let found = rule(at: node, for: method) { return found }
            // `{name*}` may match no segment at all: `/static` for `/static/{rest*}`.
            return restMatch(node, remaining: nil, method, &captures)
        }
        let slash = remaining.utf8.firstIndex(of: UInt8(ascii: "/"))
        let segment = slash.map { remaining[..<$0] } ?? remaining
        let after = slash.map { remaining[remaining.index(after: $0)...] }

        if let child = node.literals[segment], let found = search(child, after, method, &captures) {
            return found
        }
        if !segment.isEmpty, let child = node.parameter {
            captures.append(segment)
            if let found = search(child, after, method, &captures) { return found }
            captures.removeLast()
        }
        return restMatch(node, remaining: remaining, method, &captures)
    }

    private func restMatch(
        _ node: Node, remaining: Substring?, _ method: some StringProtocol, _ captures: inout [Substring]
    ) -> Int? {
        guard let rest = node.rest, let found = rule(at: nodes[rest], for: method) else { return nil }
        captures.append(remaining ?? "")
        return found
    }

    private func rule(at node: Node, for method: some StringProtocol) -> Int? {
        node.rules.first { rules[$0].allows(method: method) }
    }
}
