import NIOPosix

/// The request id: the client's `X-Request-Id` when it is a reasonable token,
/// else 32 random hex digits.
enum RequestID {
    static let maxLength = 128

    static func resolve(_ received: String?) -> String {
        if let received, isAcceptable(received) { return received }
        return make()
    }

    /// `resolve(_:)` with the caller's generator (an event loop's), which only its thread uses.
    static func resolve(_ received: String?, with generator: IDGenerator) -> String {
        if let received, isAcceptable(received) { return received }
        return make(with: generator)
    }

    static func isAcceptable(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength
            && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// 128 random bits as 32 hex digits, from the calling thread's generator: no
    /// system call and no lock per request. A request id names a request in the
    /// logs; it is not a secret, so a fast generator seeded from the system's is enough.
    static func make() -> String {
        let generator =
            threadGenerator.currentValue
            ?? {
                let made = IDGenerator()
                threadGenerator.currentValue = made
                return made
            }()
        return make(with: generator)
    }

    /// `make()` from `generator`, which only the calling thread uses.
    static func make(with generator: IDGenerator) -> String {
        hexadecimal(generator.next(), generator.next())
    }

    private static let threadGenerator = ThreadSpecificVariable<IDGenerator>()

    private static func hexadecimal(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for nibble in 0..<32 {
                let value = nibble < 16 ? high : low
                let shift = UInt64(60 - 4 * (nibble % 16))
                buffer[nibble] = digits.utf8Start[Int((value >> shift) & 0xF)]
            }
            return 32
        }
    }
}

/// xoshiro256** (Blackman and Vigna), seeded from the system's generator. Each
/// thread has its own (`RequestID.make`), and each event loop's byte path its own
/// (`UpstreamPool.requestIds`, used on the loop's thread alone), so one is never
/// used by two threads at once: that is the synchronization the unchecked
/// `Sendable` stands for.
final class IDGenerator: @unchecked Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        state = (system.next(), system.next(), system.next(), system.next())
        if state == (0, 0, 0, 0) { state.0 = 1 }
    }

    func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 { (value << count) | (value >> (64 - count)) }
}
