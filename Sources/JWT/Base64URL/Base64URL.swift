/// Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
///
/// Decoding refuses padding, whitespace, characters outside the URL-safe
/// alphabet, impossible lengths (4n+1) and non-zero trailing bits, so every
/// byte string has exactly one accepted encoding: a token cannot be altered
/// without changing its signing input.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as unpadded base64url.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(alphabet[Int(chunk >> 6 & 63)])
            output.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(alphabet[Int(chunk >> 6 & 63)])
        default:
            break
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes strict unpadded base64url.
    /// - Throws: `JWTError(.invalidBase64URL)` naming the offending position.
    public static func decode(_ text: Substring) throws -> [UInt8] {
        try decode(utf8: text.utf8)
    }

    /// Decodes strict unpadded base64url.
    public static func decode(_ text: String) throws -> [UInt8] {
        try decode(utf8: text.utf8)
    }

    static func decode<UTF8Bytes: Collection>(utf8: UTF8Bytes) throws -> [UInt8] where UTF8Bytes.Element == UInt8 {
        let count = utf8.count
        if count % 4 == 1 {
            throw JWTError(.invalidBase64URL, "a base64url text of \(count) characters cannot be complete")
        }
        var output = [UInt8]()
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for (position, byte) in utf8.enumerated() {
            let value = decodeTable[Int(byte)]
            guard value != 0xFF else {
                let shown = byte == UInt8(ascii: "=") ? "padding '='" : "character \(describe(byte))"
                throw JWTError(.invalidBase64URL, "\(shown) at position \(position) is not allowed in base64url")
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero, or two different texts would decode alike.
        if accumulator != 0 {
            throw JWTError(.invalidBase64URL, "the last character carries non-zero padding bits")
        }
        return output
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: true)
    }
}
