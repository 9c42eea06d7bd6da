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
struct RawRequestHead: RawHead {
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
        var storage: [Field] = []
        return scan(buffer, limit: limit, reusing: &storage)
    }

    /// `scan(_:limit:)` with the list of fields kept in `storage`, a connection's
    /// own: the head shares it, and the next head reuses it once this one is gone.
    static func scan(_ buffer: ByteBuffer, limit: Int, reusing storage: inout [Field]) -> Scan {
        let read = { (reader: inout RawHeadReader) throws(Refusal) in try reader.readRequest(reusing: &storage) }
        switch RawHeadScan.scan(buffer, limit: limit, read) {
        case .incomplete: return .incomplete
        case .refused(let refusal): return .refused(refusal)
        case .head(let parts, let bytes, let length):
            storage = RawHeadParts.kept(parts.fields)
            let head = RawRequestHead(
                bytes: bytes, method: parts.method, target: parts.target, minorVersion: parts.minorVersion,
                fields: parts.fields, contentLength: parts.contentLength, transferEncodings: parts.transferEncodings)
            return .head(head, length: length)
        }
    }

}
