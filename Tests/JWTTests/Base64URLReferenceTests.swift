import Testing

@testable import JWT

/// `Base64URL.decode(_:into:)`, the decoder of every token segment, must give the
/// bytes and the error (code and words) of a plain character-at-a-time decoder
/// for every input. (An eight-characters-a-round loop was tried against it and was
/// slower: docs/jwt.md, "The Connect request binding".)
@Suite("Base64URL against a plain decoder")
struct Base64URLReferenceTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Each byte's place in the alphabet, or nil.
    static let sextets: [Int?] = (0...255).map { byte in alphabet.firstIndex(of: UInt8(byte)) }

    /// A plain strict decoder: the rules of `Base64URL`, one character at a time.
    static func reference(_ input: [UInt8]) -> Result<[UInt8], JWTError> {
        if input.count % 4 == 1 {
            return .failure(
                JWTError(.invalidBase64URL, "a base64url text of \(input.count) characters cannot be complete"))
        }
        if let position = input.firstIndex(where: { sextets[Int($0)] == nil }) {
            let byte = input[position]
            let shown: String
            if byte == UInt8(ascii: "=") {
                shown = "padding '='"
            } else if byte >= 0x21 && byte < 0x7F {
                shown = "character '\(Character(Unicode.Scalar(byte)))'"
            } else {
                shown = "character 0x" + String(byte, radix: 16, uppercase: true)
            }
            return .failure(JWTError(.invalidBase64URL, "\(shown) at position \(position) is not allowed in base64url"))
        }
        var bits = 0
        var pending = 0
        var output: [UInt8] = []
        for character in input {
            pending = pending << 6 | sextets[Int(character)]!
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: pending >> bits))
                pending &= (1 << bits) - 1
            }
        }
        if pending != 0 {
            return .failure(JWTError(.invalidBase64URL, "the last character carries non-zero padding bits"))
        }
        return .success(output)
    }

    /// The decoder's answer for `input`, into a buffer of exactly the decoded size plus `slack` bytes.
    static func decode(_ input: [UInt8], slack: Int) -> Result<[UInt8], JWTError> {
        input.withUnsafeBufferPointer { input in
            let capacity = Base64URL.decodedCount(input.count) + slack
            var output = [UInt8](repeating: 0xA5, count: capacity)
            return output.withUnsafeMutableBufferPointer { buffer in
                Result { () throws(JWTError) -> [UInt8] in
                    let count = try Base64URL.decode(input, into: buffer)
                    return Array(buffer[..<count])
                }
            }
        }
    }

    static func expectSame(_ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = reference(input)
        for slack in [0, 1, 2, 8] {
            let actual = decode(input, slack: slack)
            switch (actual, expected) {
            case (.success(let bytes), .success(let wanted)):
                if bytes != wanted {
                    Issue.record("\(input) decoded to \(bytes), not \(wanted)", sourceLocation: sourceLocation)
                }
            case (.failure(let error), .failure(let wanted)):
                if error.code != wanted.code || error.reason != wanted.reason {
                    Issue.record("\(input): \(error), not \(wanted)", sourceLocation: sourceLocation)
                }
            default:
                Issue.record("\(input): \(actual), not \(expected)", sourceLocation: sourceLocation)
            }
        }
    }

    /// A valid text of `length` characters (not 4n+1) whose last character has zero unused bits.
    static func valid(_ length: Int, seed: Int) -> [UInt8] {
        var text = (0..<length).map { alphabet[($0 &* 29 &+ seed &* 7 &+ 3) % 64] }
        if let last = text.indices.last {
            let unused = length % 4 == 2 ? 0x0F : length % 4 == 3 ? 0x03 : 0
            text[last] = alphabet[alphabet.firstIndex(of: text[last])! & ~unused]
        }
        return text
    }

    @Test("every byte at every position of every length up to 24 decodes as the plain decoder does")
    func everyByteEveryPosition() {
        for length in 0...24 {
            let base = Self.valid(length, seed: length)
            Self.expectSame(base)
            for position in 0..<length {
                for byte in UInt8.min...UInt8.max {
                    var text = base
                    text[position] = byte
                    Self.expectSame(text)
                }
            }
        }
    }

    @Test("two bad bytes: the error names the first")
    func twoBadBytes() {
        for length in [16, 19, 24, 43] {
            let base = Self.valid(length, seed: 5)
            for first in 0..<length {
                for second in first..<length {
                    var text = base
                    text[first] = UInt8(ascii: "=")
                    text[second] = UInt8(ascii: "+")
                    Self.expectSame(text)
                }
            }
        }
    }

    @Test("every sextet at every position of long texts, and random texts, decode alike")
    func longAndRandom() {
        for length in [40, 43, 86, 200, 203, 342] {
            let base = Self.valid(length, seed: 1)
            for position in 0..<length {
                for character in Self.alphabet {
                    var text = base
                    text[position] = character
                    Self.expectSame(text)
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...64, using: &generator)
            var text = (0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }
            if length > 0, Int.random(in: 0..<4, using: &generator) == 0 {
                text[Int.random(in: 0..<length, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            Self.expectSame(text)
        }
    }
}
