/// SplitMix64: a small deterministic generator, so property tests fail the same
/// way on every run.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// Changes `bytes` one to three times: a byte of `interesting` inserted or put in
    /// place of one, or a byte removed, each at a random place.
    public mutating func mutate(_ bytes: inout [UInt8], with interesting: [UInt8]) {
        for _ in 0..<(1 + Int(next() % 3)) {
            guard !bytes.isEmpty else { return }
            let at = Int(next() % UInt64(bytes.count))
            let byte = interesting[Int(next() % UInt64(interesting.count))]
            switch next() % 3 {
            case 0: bytes.insert(byte, at: at)
            case 1: bytes[at] = byte
            default: bytes.remove(at: at)
            }
        }
    }
}
