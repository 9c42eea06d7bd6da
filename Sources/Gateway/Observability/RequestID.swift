/// The request id: the client's `X-Request-Id` when it is a reasonable token,
/// else 32 random hex digits.
enum RequestID {
    static let maxLength = 128

    static func resolve(_ received: String?) -> String {
        if let received, isAcceptable(received) { return received }
        return make()
    }

    static func isAcceptable(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength
            && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
