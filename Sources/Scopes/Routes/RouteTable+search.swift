extension RouteTable {
    /// What one search looks at: the path's UTF-8 bytes (its leading `/`
    /// included) and the method, also as a bit when it is a common one.
    struct SearchInput<Method: StringProtocol> {
        let bytes: UnsafeBufferPointer<UInt8>
        let method: Method
        let methodBit: MethodBits
    }
}

extension RouteTable.Compiled {
    typealias SearchInput = RouteTable.SearchInput

    /// Depth-first search in precedence order (literal, then `{name}`, then
    /// `{name*}`), so the first rule found is the most specific one. `start` is
    /// the byte offset after the last `/` consumed; `nil` once every segment is
    /// used. Returns the rule's position in `rules`.
    func search(_ nodeIndex: Int, _ start: Int?, _ input: SearchInput<some StringProtocol>) -> Int? {
        guard let start else {
            if let found = rule(at: nodeIndex, input) { return found }
            // `{name*}` may match no segment at all: `/static` for `/static/{rest*}`.
            return restMatch(nodeIndex, input)
        }
        // Byte offsets: the path is ASCII in practice, and Character stepping
        // would pay for grapheme breaking on every segment.
        var end = start
        while end < input.bytes.count, input.bytes[end] != UInt8(ascii: "/") { end += 1 }
        let after: Int? = end < input.bytes.count ? end + 1 : nil

        let segment = UnsafeBufferPointer(rebasing: input.bytes[start..<end])
        if let child = literalEdges.child(of: nodeIndex, segment), let found = search(child, after, input) {
            return found
        }
        if end > start, let child = nodes[nodeIndex].parameter, let found = search(child, after, input) {
            return found
        }
        return restMatch(nodeIndex, input)
    }

    private func restMatch(_ nodeIndex: Int, _ input: SearchInput<some StringProtocol>) -> Int? {
        guard let rest = nodes[nodeIndex].rest else { return nil }
        return rule(at: rest, input)
    }

    private func rule(at nodeIndex: Int, _ input: SearchInput<some StringProtocol>) -> Int? {
        for slot in nodes[nodeIndex].ending {
            let position = Int(endingRules[slot])
            if methodBits[position].allows(input.methodBit) {
                // A method outside the common ones is compared by name.
                if input.methodBit.isEmpty, !rules[position].allows(method: input.method) { continue }
                return position
            }
        }
        return nil
    }
}

/// A set of HTTP methods as bits, so a rule's methods are tested with one AND.
/// Methods outside the common list share one bit that means "compare by name".
struct MethodBits: Sendable {
    private let raw: UInt16

    private static let common = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    private static let other: UInt16 = 1 << 15

    /// The methods of a rule: one bit each, `other` for any uncommon one.
    init(allowing methods: [String]) {
        var raw: UInt16 = 0
        for method in methods { raw |= MethodBits.bit(method) ?? MethodBits.other }
        self.raw = raw
    }

    /// A request's method: its bit, or empty when it is not a common one.
    init(requesting method: some StringProtocol) {
        raw = MethodBits.bit(method) ?? 0
    }

    var isEmpty: Bool { raw == 0 }

    /// Whether a rule with these bits may allow `request`: surely when the bits
    /// share one, possibly (to be compared by name) when `request` is uncommon.
    func allows(_ request: MethodBits) -> Bool {
        request.isEmpty ? raw & MethodBits.other != 0 : raw & request.raw != 0
    }

    // Compared as strings, as `RouteRule.allows(method:)` does.
    private static func bit(_ method: some StringProtocol) -> UInt16? {
        for (position, name) in common.enumerated() where method == name { return 1 << position }
        return nil
    }
}
