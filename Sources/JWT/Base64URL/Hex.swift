/// Hexadecimal text of bytes.
public enum Hex {
    /// Lower-case hex, as the `qsh` claim is written.
    public static func lowercase(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { output in
                lowercase(bytes, into: output)
            }
        }
    }

    /// Writes the hex of `bytes` into `output` (twice as long) and returns the count written.
    @discardableResult
    static func lowercase(_ bytes: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(output.count >= bytes.count * 2, "hex output buffer too small")
        for (index, byte) in bytes.enumerated() {
            output[2 * index] = digit(byte >> 4)
            output[2 * index + 1] = digit(byte & 0x0F)
        }
        return bytes.count * 2
    }

    /// A digit by arithmetic rather than from a lazily initialised table.
    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &- 10 &+ UInt8(ascii: "a")
    }
}
