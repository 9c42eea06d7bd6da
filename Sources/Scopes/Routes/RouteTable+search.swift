extension RouteTable {
    /// Depth-first search in precedence order (literal, then `{name}`, then
    /// `{name*}`), so the first rule found is the most specific one. `remaining`
    /// is the path after the last `/` consumed; `nil` once every segment is used.
    /// Captured raw values are pushed on `captures` in template order.
    func search(
        _ nodeIndex: Int, _ remaining: Substring?, _ method: some StringProtocol,
        _ captures: inout [Substring]
    ) -> Int? {
        // Fields are read in place: copying the node would retain its dictionary.
        guard let remaining else {
            if let found = rule(at: nodeIndex, for: method) { return found }
            // `{name*}` may match no segment at all: `/static` for `/static/{rest*}`.
            return restMatch(nodeIndex, remaining: nil, method, &captures)
        }
        // Byte-level indices: the path is ASCII in practice, and Character
        // stepping would pay for grapheme breaking on every segment.
        let slash = remaining.utf8.firstIndex(of: UInt8(ascii: "/"))
        let segment = slash.map { remaining[..<$0] } ?? remaining
        let after = slash.map { remaining[remaining.utf8.index(after: $0)...] }

        if let child = nodes[nodeIndex].literals[segment], let found = search(child, after, method, &captures) {
            return found
        }
        if !segment.isEmpty, let child = nodes[nodeIndex].parameter {
            captures.append(segment)
            if let found = search(child, after, method, &captures) { return found }
            captures.removeLast()
        }
        return restMatch(nodeIndex, remaining: remaining, method, &captures)
    }

    private func restMatch(
        _ nodeIndex: Int, remaining: Substring?, _ method: some StringProtocol, _ captures: inout [Substring]
    ) -> Int? {
        guard let rest = nodes[nodeIndex].rest, let found = rule(at: rest, for: method) else { return nil }
        captures.append(remaining ?? "")
        return found
    }

    private func rule(at nodeIndex: Int, for method: some StringProtocol) -> Int? {
        nodes[nodeIndex].rules.first { rules[$0].allows(method: method) }
    }
}
