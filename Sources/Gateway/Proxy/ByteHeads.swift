import NIOCore

/// The byte path's request shape (docs/gateway.md §3, "The byte path"): which
/// requests it serves from their bytes. Everything else stays on NIO's HTTP
/// handlers, which serve every request they always served.
enum ByteRequestShape {
    /// Reads the head's fields once: the request the byte path takes, or nil.
    ///
    /// Taken: HTTP/1.1, `GET` or `HEAD`, no body (neither `Content-Length` nor
    /// `Transfer-Encoding`), no `Expect` or `Upgrade`, `Connection` absent or
    /// `keep-alive` alone, exactly one `Host`, and a head within the size
    /// `RequestHead` allows, measured the same way.
    static func read(_ head: RawRequestHead) -> Shape? {
        guard head.minorVersion == 1, head.contentLength == nil, head.transferEncodings.isEmpty else { return nil }
        // Methods are case-sensitive (RFC 9110 §9.1).
        let isHead: Bool
        switch head.string(head.method) {
        case "GET": isHead = false
        case "HEAD": isHead = true
        default: return nil
        }
        // Read into locals and built once at the end: a shape changed in place was copied whole.
        var host: String?
        var authorization: Substring?
        var authorizationCount = 0
        var requestId: String?
        var size = head.target.count
        var hosts = 0
        for field in head.fields {
            if head.field(field, isNamed: "host") {
                hosts += 1
                if host == nil { host = head.string(field.value) }
                size += field.value.count
                continue
            }
            size += field.name.count + field.value.count + 4
            if head.field(field, isNamed: "authorization") {
                authorizationCount += 1
                if authorization == nil { authorization = Substring(head.string(field.value)) }
            } else if head.field(field, isNamed: "x-request-id") {
                if requestId == nil { requestId = head.string(field.value) }
            } else if head.field(field, isNamed: "connection") {
                guard
                    head.bytes.withUnsafeReadableBytes({ RawHeadReader.bytes($0, at: field.value, are: "keep-alive") })
                else { return nil }
            } else if head.field(field, isNamed: "expect") || head.field(field, isNamed: "upgrade") {
                return nil
            }
        }
        guard hosts == 1, size <= RequestHead.maxHeaderBytes else { return nil }
        return Shape(
            isHeadRequest: isHead, host: host, authorization: authorization, authorizationCount: authorizationCount,
            requestId: requestId)
    }

    /// What the byte path reads of a head it takes.
    struct Shape {
        var isHeadRequest: Bool
        var host: String?
        /// The first `Authorization` value, and how many there are (no list for the usual one).
        var authorization: Substring?
        var authorizationCount = 0
        var requestId: String?
    }
}

/// A field of a request head kept as bytes, as the header rules read it.
struct RawForwardedField: ForwardedField {
    /// The head's bytes alone: one reference to hold, where the whole head has three.
    let head: HeadBytes
    let field: RawRequestHead.Field

    var lowercasedName: String { head.lowercasedString(field.name) }
    var value: String { head.string(field.value) }
}

/// A request head's fields as the header rules read them. A sequence of its own,
/// not a lazy map: a map's closure holding the head would be allocated each request.
struct RawForwardedFields: Sequence {
    let head: HeadBytes
    let fields: [RawRequestHead.Field]

    func makeIterator() -> Iterator { Iterator(head: head, fields: fields.makeIterator()) }

    struct Iterator: IteratorProtocol {
        let head: HeadBytes
        var fields: IndexingIterator<[RawRequestHead.Field]>

        mutating func next() -> RawForwardedField? {
            fields.next().map { RawForwardedField(head: head, field: $0) }
        }
    }
}

/// A head's bytes, read through `RawHead`'s functions.
struct HeadBytes: RawHead {
    let bytes: ByteBuffer
}

extension RawHead {
    /// The bytes at `range` as a string in lower case (a field's name).
    func lowercasedString(_ range: Range<Int>) -> String {
        bytes.withUnsafeReadableBytes { raw in
            let name = UnsafeRawBufferPointer(rebasing: raw[range])
            return String(unsafeUninitializedCapacity: name.count) { out in
                for index in 0..<name.count {
                    out[index] = RawHeadReader.asciiLowercased(name[index])
                }
                return name.count
            }
        }
    }

    /// Appends the bytes at `range` to `buffer`.
    func copy(_ range: Range<Int>, to buffer: inout ByteBuffer) {
        _ = bytes.withUnsafeReadableBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// Writes the head sent upstream as bytes (docs/gateway.md §5): the request line
/// with the target decided on, the client's fields the rules keep as they were
/// received, then the fields the gateway adds and the upstream's `Host`.
struct UpstreamHeadWriter: ForwardedHeaderSink {
    private(set) var buffer: ByteBuffer

    /// Begins the head: `method` as received, the target `upstream.requestTarget`
    /// makes of `rawPath` and `rawQuery`, written piece by piece (no string of its own).
    /// - Parameter recycled: the buffer of the connection's last upstream head, used
    ///   again where NIO has written it.
    init(
        received: borrowing RawRequestHead, upstream: borrowing UpstreamTarget, rawPath: Substring,
        rawQuery: Substring?, recycling recycled: inout RecycledBuffer, allocator: ByteBufferAllocator
    ) {
        var buffer = recycled.take(
            capacity: received.bytes.readableBytes + upstream.pathPrefix.utf8.count + 512, allocator: allocator)
        received.copy(received.method, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        upstream.requestTarget(rawPath: rawPath, rawQuery: rawQuery) { buffer.writeSubstring($0) }
        buffer.writeStaticString(" HTTP/1.1\r\n")
        self.buffer = buffer
    }

    mutating func keep(_ field: RawForwardedField) {
        field.head.bytes.withUnsafeReadableBytes { raw in
            buffer.writeField(
                name: UnsafeRawBufferPointer(rebasing: raw[field.field.name]),
                value: UnsafeRawBufferPointer(rebasing: raw[field.field.value]))
        }
    }

    mutating func add(name: String, value: String) {
        buffer.writeField(name: name, value: value)
    }

    /// The element written in place: no string of its own.
    mutating func addForwarded(client: String?, authority: String?, isSecure: Bool) {
        buffer.reserveCapacity(
            minimumWritableBytes: ForwardedHeaders.forwardedElementLength(client: client, authority: authority) + 13)
        buffer.writeStaticString("Forwarded: ")
        ForwardedHeaders.forwardedElement(client: client, authority: authority, isSecure: isSecure) {
            buffer.writeString($0)
        }
        buffer.writeStaticString("\r\n")
    }

    /// Ends the head with the upstream's `Host` and the blank line.
    mutating func finish(host: String) -> ByteBuffer {
        add(name: "Host", value: host)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The client's fields of `received`, as the rules read them.
    static func fields(of received: RawRequestHead) -> RawForwardedFields {
        RawForwardedFields(head: HeadBytes(bytes: received.bytes), fields: received.fields)
    }
}

/// The head of an upstream's answer as the client receives it on the byte path
/// (docs/gateway.md §5): HTTP/1.1 with the upstream's status code and reason, the
/// fields `ForwardedHeaders.passesResponseHeader` lets through as they were
/// received, and the framing the relayed body has.
struct ClientResponseHead {
    /// The bytes to write to the client; room for `bodyCapacity` more is reserved.
    var bytes: ByteBuffer
    /// Whether the upstream lets the connection be used again (RFC 9112 §9.3).
    let upstreamKeepsAlive: Bool

    /// - Parameters:
    ///   - framing: how the relayed body is framed (`RawResponseHead.bodyFraming`).
    ///   - closing: the client connection closes after this answer (`Connection: close`).
    ///   - bodyCapacity: bytes of body the caller will write behind the head.
    init(
        _ head: borrowing RawResponseHead, framing: ResponseBodyFraming, requestId: String, closing: Bool,
        bodyCapacity: Int = 0, allocator: ByteBufferAllocator
    ) {
        var fresh = RecycledBuffer()
        self.init(
            head, framing: framing, requestId: requestId, closing: closing, bodyCapacity: bodyCapacity,
            recycling: &fresh, allocator: allocator)
    }

    /// - Parameter recycled: the buffer of the connection's last answer head, used
    ///   again where NIO has written it.
    init(
        _ head: borrowing RawResponseHead, framing: ResponseBodyFraming, requestId: String, closing: Bool,
        bodyCapacity: Int, recycling recycled: inout RecycledBuffer, allocator: ByteBufferAllocator
    ) {
        // A length of its own only where the body is relayed by it; chunked and
        // close-delimited bodies are framed by the fields added below.
        let keepsLength: Bool
        switch framing {
        case .none, .length: keepsLength = true
        case .chunked, .untilClose: keepsLength = false
        }
        // Each kept field grows by at most one byte (": " after a colon written without a space).
        var buffer = recycled.take(
            capacity: head.bytes.readableBytes + head.fields.count + requestId.utf8.count + 80 + bodyCapacity,
            allocator: allocator)
        var hasRequestId = false
        let connection = head.bytes.withUnsafeReadableBytes { raw in
            let connection = ConnectionField(raw, fields: head.fields)
            buffer.writeStaticString("HTTP/1.1")
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[8..<head.statusLineEnd]))
            buffer.writeStaticString("\r\n")
            for field in head.fields {
                let name = field.name
                if !keepsLength, RawHeadReader.bytes(raw, at: name, are: "content-length") { continue }
                guard
                    ForwardedHeaders.passesResponseHeader(
                        raw, name: name, value: head.string(field.value), options: connection.options)
                else { continue }
                if RawHeadReader.bytes(raw, at: name, are: "x-request-id") { hasRequestId = true }
                buffer.writeField(
                    name: UnsafeRawBufferPointer(rebasing: raw[name]),
                    value: UnsafeRawBufferPointer(rebasing: raw[field.value]))
            }
            return connection
        }
        upstreamKeepsAlive = !connection.close && (head.minorVersion == 1 || connection.keepAlive)
        if framing == .chunked { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        if closing || framing == .untilClose { buffer.writeStaticString("Connection: close\r\n") }
        if !hasRequestId { buffer.writeField(name: ForwardedHeaders.requestId, value: requestId) }
        buffer.writeStaticString("\r\n")
        bytes = buffer
    }
}

/// What an answer's `Connection` fields say, read from the head's bytes: `close`,
/// `keep-alive`, and the options they list that are not hop-by-hop anyway (as
/// `ForwardedHeaders.connectionOptions` reads them from strings).
struct ConnectionField {
    var close = false
    var keepAlive = false
    /// Where each listed option is in the head; empty (unallocated) for the usual answer.
    var options: [Range<Int>] = []

    init(_ raw: UnsafeRawBufferPointer, fields: [RawRequestHead.Field]) {
        for field in fields where RawHeadReader.bytes(raw, at: field.name, are: "connection") {
            Self.forEachOption(raw, in: field.value) { option in
                if RawHeadReader.bytes(raw, at: option, are: "close") {
                    close = true
                } else if RawHeadReader.bytes(raw, at: option, are: "keep-alive") {
                    keepAlive = true
                }
                if !ForwardedHeaders.isHopByHop(raw, option) { options.append(option) }
            }
        }
    }

    /// Calls `body` with each non-empty comma-separated element of `value`, without
    /// its spaces and tabs at either end.
    static func forEachOption(_ raw: UnsafeRawBufferPointer, in value: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = value.lowerBound
        while start <= value.upperBound {
            var end = start
            while end < value.upperBound, raw[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last, raw[first] == UInt8(ascii: " ") || raw[first] == UInt8(ascii: "\t") { first += 1 }
            while last > first, raw[last - 1] == UInt8(ascii: " ") || raw[last - 1] == UInt8(ascii: "\t") { last -= 1 }
            if first < last { body(first..<last) }
            start = end + 1
        }
    }
}

extension ForwardedHeaders {
    /// `passesResponseHeader` for a field read from a head's bytes: `name` is where
    /// the field's name is in `raw`, `options` where each `Connection` option is.
    /// `value` is read only for a `Set-Cookie`.
    static func passesResponseHeader(
        _ raw: UnsafeRawBufferPointer, name: Range<Int>, value: @autoclosure () -> String, options: [Range<Int>]
    ) -> Bool {
        !isHopByHop(raw, name)
            && !options.contains(where: { RawHeadReader.bytes(raw, at: $0, equalTo: name) })
            && !(RawHeadReader.bytes(raw, at: name, are: "set-cookie") && setsGatewayCookie(value()))
    }
}

/// A connection's buffer for the heads it writes, one request after another
/// (docs/gateway.md §3): once NIO has written a head and let go of its buffer,
/// the next head is written into the same storage, with no allocation.
struct RecycledBuffer {
    /// A buffer that grew past this (a large head, a small body behind it) is not
    /// kept: an idle connection holds at most this much for each of its two heads.
    static let keptCapacity = 4 * 1024

    private var kept: ByteBuffer?

    /// An empty buffer of at least `capacity` bytes: the kept one where no one else
    /// holds it (`ByteBuffer.clear` allocates anew otherwise), else a new one.
    mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = kept.take() else { return allocator.buffer(capacity: capacity) }
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps `buffer`'s storage for the next head. The caller still writes it: the
    /// storage is shared until NIO has written it.
    mutating func keep(_ buffer: ByteBuffer) {
        guard buffer.capacity <= Self.keptCapacity else { return }
        kept = buffer
    }
}

extension ByteBuffer {
    /// Writes `name: value` and CRLF with one reservation of the buffer's space
    /// (four writes cost four checks of its storage).
    mutating func writeField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let count = name.count + value.count + 4
        writeWithUnsafeMutableBytes(minimumWritableBytes: count) { out in
            var index = 0
            func append(_ part: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[index..<index + part.count]).copyMemory(from: part)
                index += part.count
            }
            append(name)
            append(Self.separator)
            append(value)
            append(Self.lineEnd)
            return count
        }
    }

    /// `writeField(name:value:)` for strings, read in place where their bytes are
    /// contiguous (a native string's always are), without a copy to retain.
    mutating func writeField(name: String, value: String) {
        let written: Void?? = name.utf8.withContiguousStorageIfAvailable { name in
            value.utf8.withContiguousStorageIfAvailable { value in
                writeField(name: UnsafeRawBufferPointer(name), value: UnsafeRawBufferPointer(value))
            }
        }
        if case .some(.some) = written { return }
        let (nameBytes, valueBytes) = (Array(name.utf8), Array(value.utf8))
        nameBytes.withUnsafeBytes { name in valueBytes.withUnsafeBytes { writeField(name: name, value: $0) } }
    }

    private static var separator: UnsafeRawBufferPointer { staticBytes(": ") }
    private static var lineEnd: UnsafeRawBufferPointer { staticBytes("\r\n") }

    private static func staticBytes(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}

extension RawResponseHead {
    /// Whether the answer's one transfer coding is `chunked`.
    var isChunkedAlone: Bool {
        guard transferEncodings.count == 1, let field = transferEncodings.first else { return false }
        return bytes.withUnsafeReadableBytes { RawHeadReader.bytes($0, at: field.value, are: "chunked") }
    }

    /// Where the status line ends: the offset of its CR (the reader allows no other CR in it).
    var statusLineEnd: Int {
        bytes.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\r")) } ?? 8
    }
}
