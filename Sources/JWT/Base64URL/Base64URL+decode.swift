/// The alphabet's inverse: a sextet for each of the 64 characters, 0xFF for every
/// other byte. A literal array, so the compiler lays it out statically and the
/// hot path never runs a lazy initialiser.
private let decodeTable: [UInt8] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3E, 0xFF, 0xFF,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
    0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F,
    0xFF, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
]

extension Base64URL {
    /// Decodes `input` into `output` (at least `decodedCount(input.count)` bytes)
    /// and returns the number of bytes written.
    static func decode(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(JWTError) -> Int {
        try checkLength(input.count)
        precondition(output.count >= decodedCount(input.count), "base64url output buffer too small")
        return try decodeTable.withUnsafeBufferPointer { (table) throws(JWTError) -> Int in
            let full = input.count & ~3
            var read = 0
            var written = 0
            while read < full {
                let a = table[Int(input[read])]
                let b = table[Int(input[read + 1])]
                let c = table[Int(input[read + 2])]
                let d = table[Int(input[read + 3])]
                // Only the 0xFF marker has the high bit set: one test for four characters.
                guard (a | b | c | d) & 0x80 == 0 else { throw invalidCharacter(in: input, table: table) }
                let chunk = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[written] = UInt8(truncatingIfNeeded: chunk >> 16)
                output[written + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
                output[written + 2] = UInt8(truncatingIfNeeded: chunk)
                read += 4
                written += 3
            }
            return try decodeTail(input, from: read, table: table, into: output, at: written)
        }
    }

    /// The last two or three characters, whose unused low bits must be zero, or
    /// two different texts would decode alike.
    @inline(__always)
    private static func decodeTail(
        _ input: UnsafeBufferPointer<UInt8>, from read: Int, table: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>, at written: Int
    ) throws(JWTError) -> Int {
        let remaining = input.count - read
        guard remaining >= 2 else { return written }
        let a = table[Int(input[read])]
        let b = table[Int(input[read + 1])]
        let c = remaining == 3 ? table[Int(input[read + 2])] : 0
        guard (a | b | c) & 0x80 == 0 else { throw invalidCharacter(in: input, table: table) }
        output[written] = a << 2 | b >> 4
        if remaining == 2 {
            guard b & 0x0F == 0 else { throw nonZeroTrailingBits() }
            return written + 1
        }
        output[written + 1] = b << 4 | c >> 2
        guard c & 0x03 == 0 else { throw nonZeroTrailingBits() }
        return written + 2
    }

    /// The error for the first character outside the alphabet (the slow path).
    private static func invalidCharacter(
        in input: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>
    ) -> JWTError {
        let position = input.firstIndex { table[Int($0)] == 0xFF } ?? 0
        let byte = input[position]
        let shown = byte == UInt8(ascii: "=") ? "padding '='" : "character \(describe(byte))"
        return JWTError(.invalidBase64URL, "\(shown) at position \(position) is not allowed in base64url")
    }

    private static func nonZeroTrailingBits() -> JWTError {
        JWTError(.invalidBase64URL, "the last character carries non-zero padding bits")
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: true)
    }
}
