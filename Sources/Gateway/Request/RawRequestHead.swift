import NIOCore

/// A request head read straight from the bytes received, kept as those bytes: the
/// request line's and each field's place in them (docs/gateway.md §3, "Request heads
/// as bytes"). What it accepts it accepts in one reading only, stricter than
/// RFC 9112 allows a recipient to be, so that no peer behind the gateway can read the
/// same bytes as another request:
///
/// - lines end in CRLF; a bare CR or LF, NUL or another control character is refused;
/// - the request line is a token, one space, a target of visible ASCII, one space,
///   and `HTTP/1.1` or `HTTP/1.0`; no empty line before it;
/// - a field name is a token followed at once by a colon (no space before it); a value
///   is visible characters, `obs-text`, spaces and tabs; a line folded onto the next
///   (`obs-fold`) is refused, not unfolded;
/// - `Content-Length` comes at most once and is digits alone (no list); neither it
///   nor `Transfer-Encoding` may have spaces after its value, nor the codings an empty
///   element; with both the request is refused.
///
/// Whether the transfer codings, `Host` and the head's size are acceptable is then
/// decided by the functions both data paths share (`RequestFraming`, `RequestHead`).
struct RawRequestHead {
    /// Where a field's name and value (without surrounding whitespace) are, in `bytes`.
    struct Field {
        let name: Range<Int>
        let value: Range<Int>
    }

    /// The head's bytes, from the request line through the blank line.
    let bytes: ByteBuffer
    let method: Range<Int>
    let target: Range<Int>
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    let minorVersion: Int
    let fields: [Field]
    /// The `Content-Length`, when the head has one.
    let contentLength: Int?
    /// The `Transfer-Encoding` fields, in order.
    let transferEncodings: [Field]

    /// The bytes at `range` as a string (for a field's value or the target).
    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// Whether the field's name is `name` (lowercase ASCII), in any case.
    func field(_ field: Field, isNamed name: StaticString) -> Bool {
        guard field.name.count == name.utf8CodeUnitCount else { return false }
        return bytes.withUnsafeReadableBytes { head in
            name.withUTF8Buffer { expected in
                var index = 0
                for offset in field.name {
                    guard head[offset] | 0x20 == expected[index] else { return false }
                    index += 1
                }
                return true
            }
        }
    }
}

extension RawRequestHead {
    /// Why a head is refused: `tooLarge` is a 431, `malformed` a 400 with its reason.
    enum Refusal: Error, Equatable {
        case tooLarge
        case malformed(String)
    }

    /// What the bytes received so far hold.
    enum Scan {
        /// No blank line yet, and still within `limit`.
        case incomplete
        /// A head, `length` bytes from the start of the buffer.
        case head(RawRequestHead, length: Int)
        case refused(Refusal)
    }

    /// Reads the head at the start of `buffer`; `limit` bounds the bytes looked at.
    static func scan(_ buffer: ByteBuffer, limit: Int = 64 * 1024) -> Scan {
        let result = buffer.withUnsafeReadableBytes { bytes -> Result<(Parsed, Int)?, Refusal> in
            var reader = HeadReader(bytes: bytes, limit: limit)
            do throws(Refusal) {
                guard let parsed = try reader.read() else { return .success(nil) }
                return .success((parsed, reader.position))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(nil):
            return buffer.readableBytes > limit ? .refused(.tooLarge) : .incomplete
        case .success(let (parsed, length)?):
            let head = RawRequestHead(
                bytes: buffer.getSlice(at: buffer.readerIndex, length: length)!, method: parsed.method,
                target: parsed.target, minorVersion: parsed.minorVersion, fields: parsed.fields,
                contentLength: parsed.contentLength, transferEncodings: parsed.transferEncodings)
            return .head(head, length: length)
        case .failure(let refusal):
            return .refused(refusal)
        }
    }

    /// A head's parts, as offsets into the bytes read.
    fileprivate struct Parsed {
        var method = 0..<0
        var target = 0..<0
        var minorVersion = 1
        var fields: [Field] = []
        var contentLength: Int?
        var transferEncodings: [Field] = []
    }
}

/// Reads one head, byte by byte, from the start of `bytes`.
private struct HeadReader {
    let bytes: UnsafeRawBufferPointer
    let limit: Int
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, limit: Int) {
        self.bytes = bytes
        self.limit = min(limit, bytes.count)
    }

    /// The head, or nil when its end has not arrived yet.
    mutating func read() throws(RawRequestHead.Refusal) -> RawRequestHead.Parsed? {
        var parsed = RawRequestHead.Parsed()
        guard let method = try token(endingWith: UInt8(ascii: " "), what: "the method") else { return nil }
        parsed.method = method
        guard let target = try targetBytes() else { return nil }
        parsed.target = target
        guard let minor = try version() else { return nil }
        parsed.minorVersion = minor
        while true {
            guard position < limit else { return nil }
            let byte = bytes[position]
            if byte == cr {
                guard position + 1 < limit else { return nil }
                guard bytes[position + 1] == lf else { throw .malformed("a bare CR ends the head") }
                position += 2
                return try checked(parsed)
            }
            if byte == space || byte == tab {
                throw .malformed("a header line is folded onto the one before (obs-fold)")
            }
            guard let field = try field() else { return nil }
            try note(field, in: &parsed)
        }
    }

    /// Bytes of token characters up to `end`, which is consumed; nil if more must come.
    private mutating func token(
        endingWith end: UInt8, what: String
    ) throws(RawRequestHead.Refusal) -> Range<Int>? {
        try run(endingWith: end, what: what, of: isTokenCharacter, "not a token character")
    }

    /// The request target: visible ASCII up to one space.
    private mutating func targetBytes() throws(RawRequestHead.Refusal) -> Range<Int>? {
        try run(endingWith: space, what: "the request target", of: { $0 > 0x20 && $0 < 0x7F }, "not visible ASCII")
    }

    /// A non-empty run of bytes that `allowed` accepts, up to `end`, which is consumed;
    /// nil if more must come.
    private mutating func run(
        endingWith end: UInt8, what: String, of allowed: (UInt8) -> Bool, _ otherwise: String
    ) throws(RawRequestHead.Refusal) -> Range<Int>? {
        let start = position
        while position < limit {
            let byte = bytes[position]
            if byte == end {
                guard position > start else { throw .malformed("\(what) is empty") }
                position += 1
                return start..<(position - 1)
            }
            guard allowed(byte) else { throw .malformed("\(what) holds the byte 0x\(hex(byte)), \(otherwise)") }
            position += 1
        }
        return nil
    }

    /// `HTTP/1.1` or `HTTP/1.0` and CRLF: the minor version.
    private mutating func version() throws(RawRequestHead.Refusal) -> Int? {
        let expected: [UInt8] = Array("HTTP/1.".utf8)
        guard position + expected.count + 3 <= limit else {
            // Not all here yet: what is here must still be a prefix of a version.
            for offset in 0..<(limit - position) where offset < expected.count {
                guard bytes[position + offset] == expected[offset] else {
                    throw .malformed("the request line's version is not HTTP/1.1 or HTTP/1.0")
                }
            }
            return nil
        }
        for (offset, byte) in expected.enumerated() where bytes[position + offset] != byte {
            throw .malformed("the request line's version is not HTTP/1.1 or HTTP/1.0")
        }
        let minor = bytes[position + expected.count]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1"),
            bytes[position + expected.count + 1] == cr, bytes[position + expected.count + 2] == lf
        else {
            throw .malformed("the request line's version is not HTTP/1.1 or HTTP/1.0, ended by CRLF")
        }
        position += expected.count + 3
        return Int(minor - UInt8(ascii: "0"))
    }

    /// One field line; nil if its end has not arrived yet.
    private mutating func field() throws(RawRequestHead.Refusal) -> RawRequestHead.Field? {
        guard let name = try token(endingWith: UInt8(ascii: ":"), what: "a header name") else { return nil }
        while position < limit, bytes[position] == space || bytes[position] == tab { position += 1 }
        let start = position
        var end = position
        while position < limit {
            let byte = bytes[position]
            if byte == cr {
                guard position + 1 < limit else { return nil }
                guard bytes[position + 1] == lf else { throw .malformed("a bare CR in a header value") }
                position += 2
                return RawRequestHead.Field(name: name, value: start..<end)
            }
            if byte == space || byte == tab {
                position += 1
                continue
            }
            guard byte > 0x20, byte != 0x7F else {
                throw .malformed("a header value holds the control byte 0x\(hex(byte))")
            }
            position += 1
            end = position
        }
        return nil
    }

    /// Notes what framing needs from `field`.
    private func note(
        _ field: RawRequestHead.Field, in parsed: inout RawRequestHead.Parsed
    ) throws(RawRequestHead.Refusal) {
        parsed.fields.append(field)
        if isNamed(field, "content-length") {
            guard parsed.contentLength == nil else { throw .malformed("the request has more than one Content-Length") }
            // Digits alone up to the line's end: NIO's parser refuses a tab after them, so nothing is allowed there.
            guard let length = digits(field.value), bytes[field.value.upperBound] == cr else {
                throw .malformed("Content-Length must be one decimal number")
            }
            parsed.contentLength = length
        } else if isNamed(field, "transfer-encoding") {
            guard bytes[field.value.upperBound] == cr else {
                throw .malformed("Transfer-Encoding must end its line: nothing may follow its last coding")
            }
            guard hasNoEmptyElement(field.value) else {
                throw .malformed("Transfer-Encoding has an empty coding in its list")
            }
            parsed.transferEncodings.append(field)
        }
    }

    /// The head once whole: no length given twice over.
    private func checked(_ parsed: RawRequestHead.Parsed) throws(RawRequestHead.Refusal) -> RawRequestHead.Parsed {
        if parsed.contentLength != nil, !parsed.transferEncodings.isEmpty {
            throw .malformed("the request has both Content-Length and Transfer-Encoding")
        }
        return parsed
    }

    private func isNamed(_ field: RawRequestHead.Field, _ name: StaticString) -> Bool {
        guard field.name.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { expected in
            var index = 0
            for offset in field.name {
                guard bytes[offset] | 0x20 == expected[index] else { return false }
                index += 1
            }
            return true
        }
    }

    /// Whether the comma-separated list in `range` has no empty element (`a,,b`, `a,`, `,a`, empty).
    private func hasNoEmptyElement(_ range: Range<Int>) -> Bool {
        var elementHasContent = false
        for offset in range {
            switch bytes[offset] {
            case UInt8(ascii: ","):
                guard elementHasContent else { return false }
                elementHasContent = false
            case space, tab:
                continue
            default:
                elementHasContent = true
            }
        }
        return elementHasContent
    }

    /// The decimal number `range` holds, digits alone, at most 18 of them.
    private func digits(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for offset in range {
            let digit = bytes[offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")

/// `tchar` (RFC 9110 §5.6.2): the characters of a method or a field name.
private func isTokenCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
}
