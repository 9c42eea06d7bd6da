import NIOCore

/// A head's parts, as offsets into the bytes read: a request's line or a response's
/// status line, then the fields.
struct RawHeadParts {
    var method = 0..<0
    var target = 0..<0
    var status = 0
    var minorVersion = 1
    var fields: [RawRequestHead.Field] = []
    var contentLength: Int?
    var transferEncodings: [RawRequestHead.Field] = []

    /// The most fields a list kept for the next head may have room for: a head with
    /// more (up to the head's limit) does not leave a large list to an idle connection.
    static let keptFields = 64

    /// What a connection keeps of `fields` for its next head: the list where it is
    /// of the usual size, else nothing.
    static func kept(_ fields: [RawRequestHead.Field]) -> [RawRequestHead.Field] {
        fields.capacity <= keptFields ? fields : []
    }

    /// Parts with room for the fields of a usual head, so that reading one
    /// allocates their list once rather than at each doubling: in `storage`, taken
    /// (a connection's list from its last head, `RawRequestHead.scan(_:limit:reusing:)`),
    /// which is used again where no head holds it any more.
    static func reserved(reusing storage: inout [RawRequestHead.Field]) -> RawHeadParts {
        var parts = RawHeadParts()
        swap(&parts.fields, &storage)
        parts.fields.removeAll(keepingCapacity: true)
        parts.fields.reserveCapacity(16)
        return parts
    }
}

/// A head kept as its bytes, whose parts are offsets into them.
protocol RawHead {
    /// The head's bytes, from its first line through the blank line.
    var bytes: ByteBuffer { get }
}

extension RawHead {
    /// The bytes at `range` as a string (a field's name or value, the target).
    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// Whether the field's name is `name` (lowercase ASCII), in any case.
    func field(_ field: RawRequestHead.Field, isNamed name: StaticString) -> Bool {
        bytes.withUnsafeReadableBytes { RawHeadReader.bytes($0, at: field.name, are: name) }
    }
}

/// What the bytes at the start of a buffer hold, for either kind of head.
enum RawHeadScan {
    case incomplete
    /// A head: its parts, its bytes (a slice of the buffer) and their length.
    case head(RawHeadParts, bytes: ByteBuffer, length: Int)
    case refused(RawRequestHead.Refusal)

    /// Reads the head at the start of `buffer` with `read`; `limit` bounds the bytes looked at.
    static func scan(
        _ buffer: ByteBuffer, limit: Int,
        _ read: (inout RawHeadReader) throws(RawRequestHead.Refusal) -> RawHeadParts?
    ) -> RawHeadScan {
        let result = buffer.withUnsafeReadableBytes { bytes -> Result<(RawHeadParts, Int)?, RawRequestHead.Refusal> in
            var reader = RawHeadReader(bytes: bytes, limit: limit)
            do throws(RawRequestHead.Refusal) {
                guard let parts = try read(&reader) else { return .success(nil) }
                return .success((parts, reader.position))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(nil):
            return buffer.readableBytes > limit ? .refused(.tooLarge) : .incomplete
        case .success(let (parts, length)?):
            return .head(parts, bytes: buffer.getSlice(at: buffer.readerIndex, length: length)!, length: length)
        case .failure(let refusal):
            return .refused(refusal)
        }
    }
}

/// Reads one head, byte by byte, from the start of `bytes`, by the rules of
/// `RawRequestHead` (a response's status line aside: `RawResponseHead`).
struct RawHeadReader {
    let bytes: UnsafeRawBufferPointer
    let limit: Int
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, limit: Int) {
        self.bytes = bytes
        self.limit = min(limit, bytes.count)
    }

    /// A request head, or nil when its end has not arrived yet.
    mutating func readRequest(
        reusing storage: inout [RawRequestHead.Field]
    ) throws(RawRequestHead.Refusal) -> RawHeadParts? {
        var parsed = RawHeadParts.reserved(reusing: &storage)
        guard let method = try token(endingWith: UInt8(ascii: " "), what: "the method") else { return nil }
        parsed.method = method
        guard let target = try targetBytes() else { return nil }
        parsed.target = target
        guard let minor = try version(endsWithSpace: false, what: "the request line") else { return nil }
        parsed.minorVersion = minor
        return try fields(into: &parsed) ? checked(parsed) : nil
    }

    /// A response head: `HTTP/1.x`, a space, three digits, a space and a reason of
    /// visible characters, spaces and tabs (perhaps empty), CRLF; then the fields.
    mutating func readResponse(
        reusing storage: inout [RawRequestHead.Field]
    ) throws(RawRequestHead.Refusal) -> RawHeadParts? {
        var parsed = RawHeadParts.reserved(reusing: &storage)
        guard let minor = try version(endsWithSpace: true, what: "the status line") else { return nil }
        parsed.minorVersion = minor
        guard position + 4 <= limit else { return nil }
        var status = 0
        for offset in 0..<3 {
            let digit = bytes[position + offset] &- UInt8(ascii: "0")
            guard digit < 10 else { throw .malformed("the status code is not three digits") }
            status = status * 10 + Int(digit)
        }
        guard status >= 100, bytes[position + 3] == space else {
            throw .malformed("the status code is not three digits from 100 on, then a space")
        }
        parsed.status = status
        position += 4
        while position < limit {
            let byte = bytes[position]
            if byte == cr {
                guard position + 1 < limit else { return nil }
                guard bytes[position + 1] == lf else { throw .malformed("a bare CR in the reason phrase") }
                position += 2
                return try fields(into: &parsed) ? checked(parsed) : nil
            }
            guard byte == tab || (byte >= 0x20 && byte != 0x7F) else {
                throw .malformed("the reason phrase holds the control byte 0x\(hex(byte))")
            }
            position += 1
        }
        return nil
    }

    /// The field lines through the blank line ending the head, noted in `parsed`
    /// (in place, so that its list of fields, reserved by the caller, is not copied);
    /// false when more must come.
    private mutating func fields(into parsed: inout RawHeadParts) throws(RawRequestHead.Refusal) -> Bool {
        while true {
            guard position < limit else { return false }
            let byte = bytes[position]
            if byte == cr {
                guard position + 1 < limit else { return false }
                guard bytes[position + 1] == lf else { throw .malformed("a bare CR ends the head") }
                position += 2
                return true
            }
            if byte == space || byte == tab {
                throw .malformed("a header line is folded onto the one before (obs-fold)")
            }
            guard let field = try field() else { return false }
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

    /// `HTTP/1.1` or `HTTP/1.0` followed by the line's end (CRLF) or, with
    /// `endsWithSpace`, by one space: the minor version. Compared byte by byte where it lies, with
    /// nothing allocated (two heads a proxied request).
    private mutating func version(endsWithSpace: Bool, what: String) throws(RawRequestHead.Refusal) -> Int? {
        let endLength = endsWithSpace ? 1 : 2
        let length = Self.versionPrefix.count + 1 + endLength
        let minorAt = Self.versionPrefix.count
        for offset in 0..<length {
            guard position + offset < limit else { return nil }
            let byte = bytes[position + offset]
            let matches: Bool
            switch offset {
            case ..<minorAt: matches = byte == Self.versionPrefix[offset]
            case minorAt: matches = byte == UInt8(ascii: "0") || byte == UInt8(ascii: "1")
            case minorAt + 1: matches = byte == (endsWithSpace ? space : cr)
            default: matches = byte == lf
            }
            guard matches else {
                throw .malformed("\(what)'s version is not HTTP/1.1 or HTTP/1.0 where it must be")
            }
        }
        let minor = Int(bytes[position + minorAt] - UInt8(ascii: "0"))
        position += length
        return minor
    }

    /// The bytes of `HTTP/1.`, before the minor version.
    private static let versionPrefix: [UInt8] = Array("HTTP/1.".utf8)

    /// One field line; nil if its end has not arrived yet.
    private mutating func field() throws(RawRequestHead.Refusal) -> RawRequestHead.Field? {
        guard let name = try token(endingWith: UInt8(ascii: ":"), what: "a header name") else { return nil }
        while position < limit, bytes[position] == space || bytes[position] == tab { position += 1 }
        let start = position
        var end = position
        while position < limit {
            // Eight visible bytes at a time (a long value is a credential, read on every request).
            if position + 8 <= limit, Self.allVisible(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) {
                position += 8
                end = position
                continue
            }
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

    /// Whether none of the eight bytes of `word` is a space, a control byte (below
    /// 0x21) or DEL (0x7F): each is then a visible byte of a field value, which the
    /// byte-by-byte reading would take as it is. A byte from 0x80 on may make this
    /// false where it need not be (the bytes are then read one by one), never true.
    static func allVisible(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // A byte below 0x21 (a byte from 0x80 on may be flagged too).
        let below = (word &- ones &* 0x21) & ~word & highBits
        // A byte equal to 0x7F: a zero byte of `word ^ 0x7F…`.
        let delta = word ^ (ones &* 0x7F)
        let deletes = (delta &- ones) & ~delta & highBits
        return below | deletes == 0
    }

    /// Notes what framing needs from `field`.
    private func note(
        _ field: RawRequestHead.Field, in parsed: inout RawHeadParts
    ) throws(RawRequestHead.Refusal) {
        parsed.fields.append(field)
        if isNamed(field, "content-length") {
            guard parsed.contentLength == nil else { throw .malformed("the head has more than one Content-Length") }
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
    private func checked(_ parsed: RawHeadParts) throws(RawRequestHead.Refusal) -> RawHeadParts {
        if parsed.contentLength != nil, !parsed.transferEncodings.isEmpty {
            throw .malformed("the head has both Content-Length and Transfer-Encoding")
        }
        return parsed
    }

    private func isNamed(_ field: RawRequestHead.Field, _ name: StaticString) -> Bool {
        Self.bytes(bytes, at: field.name, are: name)
    }

    /// Whether the bytes at `range` are `name` (lowercase ASCII), in any case.
    static func bytes(_ bytes: UnsafeRawBufferPointer, at range: Range<Int>, are name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { expected in
            zip(range, expected).allSatisfy { bytes[$0] | 0x20 == $1 }
        }
    }

    /// Whether the bytes at `range` and at `other` are the same in ASCII, letters in any case.
    static func bytes(_ bytes: UnsafeRawBufferPointer, at range: Range<Int>, equalTo other: Range<Int>) -> Bool {
        guard range.count == other.count else { return false }
        return zip(range, other).allSatisfy { asciiLowercased(bytes[$0]) == asciiLowercased(bytes[$1]) }
    }

    /// `byte` with A–Z in lower case, every other byte as it is.
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
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

/// `tchar` (RFC 9110 §5.6.2): the characters of a method, a field name, a chunk extension.
func isTokenCharacter(_ byte: UInt8) -> Bool {
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
