#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension JSONObject {
    /// Reads a flat JSON object (the usual JOSE header or claim set) without jansson,
    /// or returns nil for anything outside `FlatJSON`'s subset, which the caller then
    /// hands to jansson (docs/jwt.md, "What a token must look like").
    static func parseFlat(_ bytes: UnsafeRawBufferPointer) -> JSONObject? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var members: [JSONObject.Member] = []
        members.reserveCapacity(8)
        let complete = FlatJSON.scan(UnsafeBufferPointer(start: base, count: bytes.count)) { key, value in
            let name = String(decoding: key, as: UTF8.self)
            switch value {
            case .string(let text): members.append((name, .string(String(decoding: text, as: UTF8.self))))
            case .integer(let number): members.append((name, .integer(number)))
            case .bool(let flag): members.append((name, .bool(flag)))
            case .null: members.append((name, .null))
            }
        }
        return complete ? JSONObject(uniqueMembers: members) : nil
    }
}

/// A one-pass reader of flat JSON objects, the shape of nearly every JOSE header
/// and claim set, for the token hot path (docs/jwt.md, "What a token must look like").
///
/// The subset is one object whose members are printable-ASCII strings without
/// escapes, integers of at most 18 digits without a leading zero, `true`,
/// `false` and `null`, with JSON whitespace between tokens, at most 32 members
/// and no repeated key. jansson accepts every such text and reads the same
/// members in the same order, so reading it here changes no decision: every
/// other text (escapes, non-ASCII, fractions, nesting, duplicate keys, any
/// error) makes `scan` return false and goes to jansson, which refuses it with
/// its own code and message.
enum FlatJSON {
    /// A member's value; strings are the bytes between the quotes (no escapes to undo).
    enum Scalar {
        case string(UnsafeBufferPointer<UInt8>)
        case integer(Int64)
        case bool(Bool)
        case null
    }

    static let maxMembers = 32

    /// Calls `member` for each member in document order and returns true when the
    /// whole text is in the subset. On false, `member` may have seen a prefix of
    /// the members: the caller throws away what it collected.
    @inline(__always)
    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, _ member: (_ key: UnsafeBufferPointer<UInt8>, _ value: Scalar) -> Void
    ) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: maxMembers) { keys in
            var scanner = Scanner(base: base, count: bytes.count)
            var count = 0
            scanner.skipWhitespace()
            guard scanner.take(UInt8(ascii: "{")) else { return false }
            scanner.skipWhitespace()
            if !scanner.take(UInt8(ascii: "}")) {
                while true {
                    guard count < maxMembers, let key = scanner.string() else { return false }
                    // A repeated key is jansson's to refuse (`duplicateKey`, with its line and column).
                    for index in 0..<count where equal(keys[index], key) { return false }
                    keys[count] = key
                    count += 1
                    scanner.skipWhitespace()
                    guard scanner.take(UInt8(ascii: ":")) else { return false }
                    scanner.skipWhitespace()
                    guard let value = scanner.value() else { return false }
                    member(key, value)
                    scanner.skipWhitespace()
                    if scanner.take(UInt8(ascii: ",")) {
                        scanner.skipWhitespace()
                        continue
                    }
                    guard scanner.take(UInt8(ascii: "}")) else { return false }
                    break
                }
            }
            scanner.skipWhitespace()
            return scanner.index == scanner.count
        }
    }

    @inline(__always)
    static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress, lhs.count > 0 else { return true }
        return equal(left, right, count: lhs.count)
    }

    /// Whether `bytes` are exactly the ASCII of `name`.
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount, let base = bytes.baseAddress else {
            return bytes.isEmpty && name.utf8CodeUnitCount == 0
        }
        return equal(base, name.utf8Start, count: bytes.count)
    }

    /// Claim names are short (`iss`, `exp`: every key is compared with the earlier
    /// ones, and the Connect check compares each with its five names), so up to 8
    /// bytes are compared in line rather than through a call to `memcmp`.
    @inline(__always)
    private static func equal(_ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, count: Int) -> Bool {
        guard count <= 8 else { return memcmp(left, right, count) == 0 }
        var index = 0
        while index < count {
            if left[index] != right[index] { return false }
            index &+= 1
        }
        return true
    }

    private struct Scanner {
        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0

        init(base: UnsafePointer<UInt8>, count: Int) {
            self.base = base
            self.count = count
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while index < count {
                switch base[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index &+= 1
                default: return
                }
            }
        }

        @inline(__always)
        mutating func take(_ byte: UInt8) -> Bool {
            guard index < count, base[index] == byte else { return false }
            index &+= 1
            return true
        }

        /// A string of printable ASCII without escapes (its content); nil for anything else.
        mutating func string() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            // Eight bytes at a time while all are the string's; the byte loop below
            // then finds the one that is not (the closing quote, or a refusal).
            while count &- index >= 8 {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                guard Self.isPlainText(word) else { break }
                index &+= 8
            }
            while index < count {
                let byte = base[index]
                // Printable ASCII (0x20–0x7E) other than `"` and `\` is the string's; one compare covers the range.
                if byte &- 0x20 < 0x5F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                    index &+= 1
                    continue
                }
                guard byte == UInt8(ascii: "\"") else {
                    // Control characters, DEL, escapes and non-ASCII bytes are jansson's.
                    return nil
                }
                let text = UnsafeBufferPointer(start: base + start, count: index &- start)
                index &+= 1
                return text
            }
            return nil
        }

        /// Whether all eight bytes of `word` are printable ASCII (0x20–0x7E) other
        /// than `"` and `\`. Each test is exact for "some byte is …" (the SWAR
        /// `hasless`, `hasmore` and `haszero` of "Bit Twiddling Hacks"), whatever
        /// the other bytes hold.
        @inline(__always)
        static func isPlainText(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let below20 = (word &- ones &* 0x20) & ~word & highs
            let above7E = ((word &+ ones &* (127 - 0x7E)) | word) & highs
            let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
            let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            let hasQuote = (quotes &- ones) & ~quotes & highs
            let hasBackslash = (backslashes &- ones) & ~backslashes & highs
            return below20 | above7E | hasQuote | hasBackslash == 0
        }

        mutating func value() -> Scalar? {
            guard index < count else { return nil }
            switch base[index] {
            case UInt8(ascii: "\""):
                return string().map(Scalar.string)
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            default:
                return integer().map(Scalar.integer)
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard count - index >= length, memcmp(base + index, word.utf8Start, length) == 0 else { return false }
            index += length
            return isDelimiter(at: index)
        }

        /// `-?(0|[1-9][0-9]{0,17})` followed by a delimiter: never overflows 64 bits,
        /// and a fraction or exponent (`1.5`, `1e3`) is left to jansson.
        private mutating func integer() -> Int64? {
            var position = index
            let negative = position < count && base[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            let firstDigit = position
            var magnitude: Int64 = 0
            while position < count, base[position] &- UInt8(ascii: "0") < 10 {
                magnitude = magnitude &* 10 &+ Int64(base[position] &- UInt8(ascii: "0"))
                position += 1
            }
            let digits = position - firstDigit
            guard digits >= 1, digits <= 18, digits == 1 || base[firstDigit] != UInt8(ascii: "0") else {
                return nil
            }
            guard isDelimiter(at: position) else { return nil }
            index = position
            return negative ? -magnitude : magnitude
        }

        /// What may follow a scalar: whitespace, `,` or `}` (or the end, which `scan` then refuses).
        @inline(__always)
        private func isDelimiter(at position: Int) -> Bool {
            guard position < count else { return true }
            switch base[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"),
                UInt8(ascii: ","), UInt8(ascii: "}"):
                return true
            default:
                return false
            }
        }
    }
}
