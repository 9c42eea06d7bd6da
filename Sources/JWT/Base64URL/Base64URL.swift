/// Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
///
/// Decoding refuses padding, whitespace, characters outside the URL-safe
/// alphabet, impossible lengths (4n+1) and non-zero trailing bits, so every
/// byte string has exactly one accepted encoding: a token cannot be altered
/// without changing its signing input.
///
/// Both directions work on contiguous buffers: this runs on every request, and
/// per-byte generic collection subscripts cost more than the decoding itself.
public enum Base64URL {
    /// Encodes bytes as unpadded base64url.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if let text = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0) }) {
            return text
        }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0) }
    }

    static func encode(buffer input: UnsafeBufferPointer<UInt8>) -> String {
        let length = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: length) { output in
            var read = 0
            var written = 0
            while read + 3 <= input.count {
                let chunk = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                writeSextets(chunk, count: 4, to: output, at: written)
                read += 3
                written += 4
            }
            switch input.count - read {
            case 1: writeSextets(UInt32(input[read]) << 16, count: 2, to: output, at: written)
            case 2:
                writeSextets(
                    UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8, count: 3, to: output, at: written)
            default: break
            }
            return length
        }
    }

    /// Writes the first `count` sextets of a 24-bit chunk as alphabet characters.
    @inline(__always)
    private static func writeSextets(
        _ chunk: UInt32, count: Int, to output: UnsafeMutableBufferPointer<UInt8>, at offset: Int
    ) {
        for index in 0..<count {
            output[offset + index] = character(UInt8(truncatingIfNeeded: chunk >> UInt32(18 - 6 * index)) & 63)
        }
    }

    /// The alphabet as arithmetic: no table to initialise lazily on the hot path.
    @inline(__always)
    private static func character(_ sextet: UInt8) -> UInt8 {
        switch sextet {
        case 0..<26: sextet &+ UInt8(ascii: "A")
        case 26..<52: sextet &- 26 &+ UInt8(ascii: "a")
        case 52..<62: sextet &- 52 &+ UInt8(ascii: "0")
        case 62: UInt8(ascii: "-")
        default: UInt8(ascii: "_")
        }
    }

    /// Decodes strict unpadded base64url.
    /// - Throws: `JWTError(.invalidBase64URL)` naming the offending position.
    public static func decode(_ text: Substring) throws(JWTError) -> [UInt8] {
        try decode(utf8: text.utf8)
    }

    /// Decodes strict unpadded base64url.
    public static func decode(_ text: String) throws(JWTError) -> [UInt8] {
        try decode(utf8: text.utf8)
    }

    static func decode<UTF8Bytes: Collection>(utf8: UTF8Bytes) throws(JWTError) -> [UInt8]
    where UTF8Bytes.Element == UInt8 {
        try utf8.withContiguousBytes(decode(buffer:))
    }

    /// Decodes `input` into a new array.
    static func decode(buffer input: UnsafeBufferPointer<UInt8>) throws(JWTError) -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: decodedCount(input.count)) { (output, count) throws(JWTError) in
            count = try decode(input, into: output)
        }
    }

    /// The number of bytes `count` base64url characters decode to (the count is not 4n+1).
    @inline(__always)
    static func decodedCount(_ count: Int) -> Int {
        count / 4 * 3 + max(count % 4 - 1, 0)
    }

    static func checkLength(_ count: Int) throws(JWTError) {
        if count % 4 == 1 {
            throw JWTError(.invalidBase64URL, "a base64url text of \(count) characters cannot be complete")
        }
    }
}
