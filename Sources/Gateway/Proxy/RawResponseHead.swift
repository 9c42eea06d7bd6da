import NIOCore
import Scopes

/// An upstream's response head read straight from its bytes, kept as those bytes
/// (docs/gateway.md §3, "Response heads as bytes"): the status line's and each
/// field's place in them, read by the rules of `RawRequestHead` (CRLF only, no
/// control bytes, no `obs-fold`, no space before a colon, one `Content-Length` of
/// digits, never beside `Transfer-Encoding`). The status line is `HTTP/1.1` or
/// `HTTP/1.0`, a space, three digits from 100 on, a space and a reason phrase of
/// visible characters, spaces and tabs, perhaps empty.
struct RawResponseHead: RawHead {
    typealias Field = RawRequestHead.Field

    /// The head's bytes, from the status line through the blank line.
    let bytes: ByteBuffer
    let status: Int
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    let minorVersion: Int
    let fields: [Field]
    let contentLength: Int?
    let transferEncodings: [Field]

    /// What the bytes received so far hold.
    enum Scan {
        case incomplete
        case head(RawResponseHead, length: Int)
        case refused(RawRequestHead.Refusal)
    }

    /// The most bytes an answer's head may take.
    static let limit = 64 * 1024

    /// Reads the head at the start of `buffer`; `limit` bounds the bytes looked at.
    static func scan(_ buffer: ByteBuffer, limit: Int = limit) -> Scan {
        var storage: [Field] = []
        return scan(buffer, limit: limit, reusing: &storage)
    }

    /// `scan(_:limit:)` with the list of fields kept in `storage`, as
    /// `RawRequestHead.scan(_:limit:reusing:)` keeps it.
    static func scan(_ buffer: ByteBuffer, limit: Int, reusing storage: inout [Field]) -> Scan {
        let read = { (reader: inout RawHeadReader) throws(RawRequestHead.Refusal) in
            try reader.readResponse(reusing: &storage)
        }
        switch RawHeadScan.scan(buffer, limit: limit, read) {
        case .incomplete: return .incomplete
        case .refused(let refusal): return .refused(refusal)
        case .head(let parts, let bytes, let length):
            storage = RawHeadParts.kept(parts.fields)
            let head = RawResponseHead(
                bytes: bytes, status: parts.status, minorVersion: parts.minorVersion, fields: parts.fields,
                contentLength: parts.contentLength, transferEncodings: parts.transferEncodings)
            return .head(head, length: length)
        }
    }

    /// How the body after this head is framed (RFC 9112 §6.3), for a request whose
    /// method was `HEAD` or not.
    func bodyFraming(requestWasHead: Bool) -> ResponseBodyFraming {
        if requestWasHead || status < 200 || status == 204 || status == 304 { return .none }
        if let last = transferEncodings.last {
            // A response whose last coding is not chunked ends when the connection does.
            return lastCodingIsChunked(last) ? .chunked : .untilClose
        }
        if let contentLength { return contentLength == 0 ? .none : .length(contentLength) }
        return .untilClose
    }
}

extension RawResponseHead {
    /// Whether the last coding of a `Transfer-Encoding` field is `chunked`, in any case,
    /// read from the bytes (the reader refused empty codings and trailing spaces).
    func lastCodingIsChunked(_ field: Field) -> Bool {
        bytes.withUnsafeReadableBytes { head in
            var start = field.value.lowerBound
            for offset in field.value where head[offset] == UInt8(ascii: ",") { start = offset + 1 }
            while start < field.value.upperBound, head[start] == UInt8(ascii: " ") || head[start] == UInt8(ascii: "\t")
            {
                start += 1
            }
            return RawHeadReader.bytes(head, at: start..<field.value.upperBound, are: "chunked")
        }
    }
}

/// How a response's body ends.
enum ResponseBodyFraming: Equatable {
    /// No body (a `HEAD` request, 1xx, 204, 304, or `Content-Length: 0`).
    case none
    case length(Int)
    case chunked
    /// Read until the upstream closes the connection.
    case untilClose
}

/// Finds where a chunked body ends in the bytes as they come (RFC 9112 §7.1),
/// strictly: a chunk size is one to fifteen hex digits; an extension is `;`, a
/// token, and perhaps `=` and a token or a quoted string, with no spaces around;
/// every line ends in CRLF; a trailer line is a field name, a colon at once and a
/// value without control bytes (not folded: no `obs-fold`). Anything else is refused, since a body framed otherwise by
/// the client would make the bytes after it another answer.
struct ChunkedBodyScanner {
    enum Refusal: Error, Equatable { case malformed(String) }

    private enum State: Equatable {
        case size(digits: Int)
        /// After `;`: the extension's name, `started` once it has a character.
        case extensionName(started: Bool)
        /// After `=`: a token or a quoted string.
        case extensionValueStart
        case extensionToken
        case extensionQuoted
        case extensionQuotedEscape
        /// After a quoted string's closing quote: `;` or CR.
        case extensionEnd
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLF
        case finalLF
        case done
    }

    private var state = State.size(digits: 0)
    private var size = 0

    /// The body has ended: the bytes after it belong to the next response.
    var isDone: Bool { state == .done }

    /// Whether the bytes scanned last are in a trailer field's line.
    private var isInTrailerLine: Bool {
        switch state {
        case .trailerName, .trailerValue, .trailerLF: true
        default: false
        }
    }

    /// Reads `bytes` on from where the last call stopped; returns how many of them
    /// belong to the body (all of them unless it ended among them). `data` is told
    /// each run of chunk data, and `trailer` each run of trailer-field lines (CRLFs
    /// included; a line split across calls comes in parts), as offsets into `bytes`.
    mutating func consume(
        _ bytes: UnsafeRawBufferPointer, data: (Range<Int>) -> Void = { _ in },
        trailer: (Range<Int>) -> Void = { _ in }
    ) throws(Refusal) -> Int {
        var index = 0
        /// Where the trailer lines not yet told started in `bytes`.
        var lineStart: Int? = isInTrailerLine ? 0 : nil
        defer { if let lineStart, lineStart < index { trailer(lineStart..<index) } }
        while index < bytes.count, state != .done {
            let byte = bytes[index]
            switch state {
            case .size(let digits):
                if let value = PercentDecoding.hexValue(byte).map(Int.init) {
                    guard digits < 15 else { throw .malformed("a chunk size has more than 15 hex digits") }
                    size = size << 4 | value
                    state = .size(digits: digits + 1)
                } else {
                    guard digits > 0 else { throw .malformed("a chunk size is missing") }
                    try endOfSize(byte)
                }
                index += 1
            case .extensionName(let started):
                if isTokenCharacter(byte) {
                    state = .extensionName(started: true)
                } else {
                    guard started else { throw .malformed("a chunk extension has no name") }
                    if byte == UInt8(ascii: "=") { state = .extensionValueStart } else { try endOfSize(byte) }
                }
                index += 1
            case .extensionValueStart:
                if byte == UInt8(ascii: "\"") {
                    state = .extensionQuoted
                } else {
                    guard isTokenCharacter(byte) else { throw .malformed("a chunk extension has no value after =") }
                    state = .extensionToken
                }
                index += 1
            case .extensionToken:
                if !isTokenCharacter(byte) { try endOfSize(byte) }
                index += 1
            case .extensionQuoted:
                switch byte {
                case UInt8(ascii: "\""): state = .extensionEnd
                case UInt8(ascii: "\\"): state = .extensionQuotedEscape
                default:
                    guard byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F) else {
                        throw .malformed("a chunk extension's quoted value holds a control byte")
                    }
                }
                index += 1
            case .extensionQuotedEscape:
                guard byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F) else {
                    throw .malformed("a chunk extension's quoted value escapes a control byte")
                }
                state = .extensionQuoted
                index += 1
            case .extensionEnd:
                try endOfSize(byte)
                index += 1
            case .sizeLF:
                guard byte == UInt8(ascii: "\n") else { throw .malformed("a bare CR after a chunk size") }
                index += 1
                state = size == 0 ? .trailerLineStart : .data(remaining: size)
            case .data(let remaining):
                let run = min(remaining, bytes.count - index)
                data(index..<(index + run))
                index += run
                state = remaining == run ? .dataCR : .data(remaining: remaining - run)
            case .dataCR:
                guard byte == UInt8(ascii: "\r") else { throw .malformed("chunk data is longer than its size") }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == UInt8(ascii: "\n") else { throw .malformed("a bare CR after chunk data") }
                size = 0
                state = .size(digits: 0)
                index += 1
            case .trailerLineStart:
                if byte == UInt8(ascii: "\r") {
                    if let start = lineStart { trailer(start..<index) }
                    lineStart = nil
                    state = .finalLF
                } else {
                    guard isTokenCharacter(byte) else {
                        throw .malformed("a trailer line does not start with a field name (or is folded)")
                    }
                    lineStart = lineStart ?? index
                    state = .trailerName
                }
                index += 1
            case .trailerName:
                if byte == UInt8(ascii: ":") {
                    state = .trailerValue
                } else {
                    guard isTokenCharacter(byte) else {
                        throw .malformed("a trailer field's name holds a byte not of a token")
                    }
                }
                index += 1
            case .trailerValue:
                if byte == UInt8(ascii: "\r") {
                    state = .trailerLF
                } else {
                    guard byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F) else {
                        throw .malformed("a trailer line holds a control byte")
                    }
                }
                index += 1
            case .trailerLF:
                guard byte == UInt8(ascii: "\n") else { throw .malformed("a bare CR in a trailer line") }
                state = .trailerLineStart
                index += 1
            case .finalLF:
                guard byte == UInt8(ascii: "\n") else { throw .malformed("a bare CR ends the chunked body") }
                state = .done
                index += 1
            case .done:
                break
            }
        }
        return index
    }

    /// What may end a chunk size or an extension: `;` (an extension follows) or CR.
    private mutating func endOfSize(_ byte: UInt8) throws(Refusal) {
        switch byte {
        case UInt8(ascii: ";"): state = .extensionName(started: false)
        case UInt8(ascii: "\r"): state = .sizeLF
        default: throw .malformed("a chunk size line holds the byte 0x\(String(byte, radix: 16)) where ; or CR must be")
        }
    }
}
