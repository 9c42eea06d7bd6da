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
        var shape = Shape(isHeadRequest: isHead)
        var size = head.target.count
        var hosts = 0
        for field in head.fields {
            if head.field(field, isNamed: "host") {
                hosts += 1
                if shape.host == nil { shape.host = head.string(field.value) }
                size += field.value.count
                continue
            }
            size += field.name.count + field.value.count + 4
            if head.field(field, isNamed: "authorization") {
                shape.authorization.append(Substring(head.string(field.value)))
            } else if head.field(field, isNamed: "x-request-id") {
                if shape.requestId == nil { shape.requestId = head.string(field.value) }
            } else if head.field(field, isNamed: "connection") {
                guard
                    head.bytes.withUnsafeReadableBytes({ RawHeadReader.bytes($0, at: field.value, are: "keep-alive") })
                else { return nil }
            } else if head.field(field, isNamed: "expect") || head.field(field, isNamed: "upgrade") {
                return nil
            }
        }
        guard hosts == 1, size <= RequestHead.maxHeaderBytes else { return nil }
        return shape
    }

    /// What the byte path reads of a head it takes.
    struct Shape {
        var isHeadRequest: Bool
        var host: String?
        var authorization: [Substring] = []
        var requestId: String?
    }
}

/// A field of a request head kept as bytes, as the header rules read it.
struct RawForwardedField: ForwardedField {
    let head: RawRequestHead
    let field: RawRequestHead.Field

    var lowercasedName: String { head.lowercasedString(field.name) }
    var value: String { head.string(field.value) }
}

extension RawHead {
    /// The bytes at `range` as a string in lower case (a field's name).
    func lowercasedString(_ range: Range<Int>) -> String {
        bytes.withUnsafeReadableBytes { raw in
            let name = UnsafeRawBufferPointer(rebasing: raw[range])
            return String(unsafeUninitializedCapacity: name.count) { out in
                for index in 0..<name.count {
                    let byte = name[index]
                    out[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
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
    private let received: RawRequestHead

    /// Begins the head: `method` as received, `target` as `UpstreamTarget.requestTarget` made it.
    init(received: RawRequestHead, target: String, allocator: ByteBufferAllocator) {
        self.received = received
        buffer = allocator.buffer(capacity: received.bytes.readableBytes + target.utf8.count + 512)
        received.copy(received.method, to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(target)
        buffer.writeStaticString(" HTTP/1.1\r\n")
    }

    mutating func keep(_ field: RawForwardedField) {
        let head = field.head
        head.copy(field.field.name, to: &buffer)
        buffer.writeStaticString(": ")
        head.copy(field.field.value, to: &buffer)
        buffer.writeStaticString("\r\n")
    }

    mutating func add(name: String, value: String) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// Ends the head with the upstream's `Host` and the blank line.
    mutating func finish(host: String) -> ByteBuffer {
        add(name: "Host", value: host)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The client's fields of `received`, as the rules read them.
    static func fields(of received: RawRequestHead) -> some Sequence<RawForwardedField> {
        received.fields.lazy.map { RawForwardedField(head: received, field: $0) }
    }
}

/// The head of an upstream's answer as the client receives it on the byte path
/// (docs/gateway.md §5): HTTP/1.1 with the upstream's status code and reason, the
/// fields `ForwardedHeaders.passesResponseHeader` lets through as they were
/// received, and the framing the relayed body has.
struct ClientResponseHead {
    /// The bytes to write to the client.
    let bytes: ByteBuffer
    /// Whether the upstream lets the connection be used again (RFC 9112 §9.3).
    let upstreamKeepsAlive: Bool

    /// - Parameters:
    ///   - framing: how the relayed body is framed (`RawResponseHead.bodyFraming`).
    ///   - closing: the client connection closes after this answer (`Connection: close`).
    init(
        _ head: RawResponseHead, framing: ResponseBodyFraming, requestId: String, closing: Bool,
        allocator: ByteBufferAllocator
    ) {
        var connectionValues: [String] = []
        for field in head.fields where head.field(field, isNamed: "connection") {
            connectionValues.append(head.string(field.value))
        }
        var close = false
        var keepAlive = false
        for value in connectionValues {
            for token in value.split(separator: ",") {
                let token = token.trimmingSpaces().lowercased()
                if token == "close" { close = true } else if token == "keep-alive" { keepAlive = true }
            }
        }
        upstreamKeepsAlive = !close && (head.minorVersion == 1 || keepAlive)
        let options = connectionValues.isEmpty ? [] : ForwardedHeaders.connectionOptions(connectionValues)
        // A length of its own only where the body is relayed by it; chunked and
        // close-delimited bodies are framed by the fields added below.
        let keepsLength: Bool
        switch framing {
        case .none, .length: keepsLength = true
        case .chunked, .untilClose: keepsLength = false
        }
        var buffer = allocator.buffer(capacity: head.bytes.readableBytes + 96)
        buffer.writeStaticString("HTTP/1.1")
        head.copy(8..<head.statusLineEnd, to: &buffer)
        buffer.writeStaticString("\r\n")
        var hasRequestId = false
        for field in head.fields {
            let name = head.lowercasedString(field.name)
            if name == "content-length", !keepsLength { continue }
            guard
                ForwardedHeaders.passesResponseHeader(
                    lowercased: name, value: head.string(field.value), options: options)
            else { continue }
            if name == "x-request-id" { hasRequestId = true }
            head.copy(field.name, to: &buffer)
            buffer.writeStaticString(": ")
            head.copy(field.value, to: &buffer)
            buffer.writeStaticString("\r\n")
        }
        if framing == .chunked { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        if closing || framing == .untilClose { buffer.writeStaticString("Connection: close\r\n") }
        if !hasRequestId {
            buffer.writeStaticString("X-Request-Id: ")
            buffer.writeString(requestId)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        bytes = buffer
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
