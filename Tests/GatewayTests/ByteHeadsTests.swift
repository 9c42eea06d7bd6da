import NIOCore
import NIOHTTP1
import Policy
import TestSupport
import Testing

@testable import Gateway

@Suite("The byte path's heads: which requests it takes, and the heads it writes both ways")
struct ByteHeadsTests {
    static func head(_ text: String) throws -> RawRequestHead {
        guard case .head(let head, _) = RawRequestHead.scan(ByteBuffer(string: text)) else {
            throw HeadError.notAHead(text)
        }
        return head
    }

    static func response(_ text: String) throws -> RawResponseHead {
        guard case .head(let head, _) = RawResponseHead.scan(ByteBuffer(string: text)) else {
            throw HeadError.notAHead(text)
        }
        return head
    }

    enum HeadError: Error { case notAHead(String) }

    @Test("GET and HEAD without a body, one Host and at most Connection: keep-alive are taken")
    func takenShapes() throws {
        let get = try #require(
            ByteRequestShape.read(
                try Self.head(
                    "GET /a?b=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: JWT x.y.z\r\nX-Request-Id: r1\r\n"
                        + "connection: Keep-Alive\r\n\r\n")))
        #expect(!get.isHeadRequest)
        #expect(get.host == "gw")
        #expect(get.authorization == "JWT x.y.z" && get.authorizationCount == 1)
        #expect(get.requestId == "r1")
        let head = try #require(ByteRequestShape.read(try Self.head("HEAD / HTTP/1.1\r\nhost: gw\r\n\r\n")))
        #expect(head.isHeadRequest)
        #expect(head.authorization == nil && head.authorizationCount == 0)
        // Two are counted (the credential is then refused as ambiguous), the first kept.
        let two = try #require(
            ByteRequestShape.read(
                try Self.head("GET / HTTP/1.1\r\nHost: gw\r\nAuthorization: JWT a\r\nauthorization: Bearer b\r\n\r\n")))
        #expect(two.authorization == "JWT a" && two.authorizationCount == 2)
        #expect(
            throws: GatewayError.self,
            performing: {
                try PresentedCredential.find(
                    firstAuthorization: two.authorization, authorizationCount: two.authorizationCount, rawQuery: nil)
            })
    }

    @Test(
        "every other shape stays on NIO's handlers",
        arguments: [
            "POST / HTTP/1.1\r\nHost: gw\r\n\r\n",
            "get / HTTP/1.1\r\nHost: gw\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: gw\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nHost: gw\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, X-Hop\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: gw\r\nConnection: upgrade\r\n\r\n",
        ])
    func otherShapes(_ text: String) throws {
        #expect(ByteRequestShape.read(try Self.head(text)) == nil)
    }

    @Test("a head over RequestHead's limit, measured as NIO's path measures it, stays on NIO's handlers")
    func sizeLimit() throws {
        // 16 fields whose name and value take 1,020 bytes each: 16 × 1,024 plus the target is over 16 KiB.
        let fields = (0..<16).map { "X-F\($0 + 10): " + String(repeating: "v", count: 1_020 - 5) + "\r\n" }.joined()
        let head = try Self.head("GET / HTTP/1.1\r\nHost: gw\r\n" + fields + "\r\n")
        #expect(head.bytes.readableBytes < RequestHead.maxHeaderBytes + 200)
        #expect(ByteRequestShape.read(head) == nil)
    }

    /// The fixtures of `ProxyPiecesTests.forwardedRequestHeadersFromNIO`, as a head on the wire.
    static let received =
        "GET /p HTTP/1.1\r\nHost: gw\r\nAuthorization: JWT secret\r\nX-Original-URL: /a\r\nX-HTTP-Method-Override: PUT\r\n"
        + "X-Forwarded-For: 10.0.0.1\r\nx_forwarded_for: 10.9.9.9\r\nForwarded: for=10.0.0.1\r\n"
        + "X-Linkgate-App: spoof\r\nX_Linkgate_Auth: spoof\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
        + "X-Kept: 2\r\nx-lower:  spaced value\r\nAccept: */*\r\n\r\n"

    @Test("the upstream head written as bytes has the fields the rules give NIO's path, in order, as received")
    func upstreamHeadAgreesWithNIOPath() throws {
        let raw = try Self.head(Self.received)
        let identity = ForwardedIdentity(accountId: "u1", appKey: "app", auth: "jwt", scopeList: "READ WRITE")
        let passed: Set<String> = ["x-http-method-override"]
        let upstream = try UpstreamTarget(
            UpstreamSpec(name: "up", url: "http://up:9000/base/", source: PolicyLocation(file: "routes.json")))
        var recycled = RecycledBuffer()
        var writer = UpstreamHeadWriter(
            received: raw, upstream: upstream, rawPath: "/p", rawQuery: nil, recycling: &recycled,
            allocator: ByteBufferAllocator())
        ForwardedHeaders.request(
            fields: UpstreamHeadWriter.fields(of: raw), options: [], authority: "gw", identity: identity,
            requestId: "rid", clientAddress: "127.0.0.2", passed: passed, isSecure: false, into: &writer)
        let bytes = writer.finish(host: "up:9000")

        var nioHeaders = HTTPHeaders()
        for field in raw.fields { nioHeaders.add(name: raw.string(field.name), value: raw.string(field.value)) }
        var expected = ForwardedHeaders.request(
            from: nioHeaders, authority: "gw", identity: identity, requestId: "rid", clientAddress: "127.0.0.2",
            passed: passed)
        expected.add(name: "Host", value: "up:9000")

        // NIO's own request parser reads the bytes back into the same head.
        let text = String(buffer: bytes)
        #expect(text.hasPrefix("GET /base/p HTTP/1.1\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        let lines = text.dropLast(2).split(separator: "\r\n", omittingEmptySubsequences: false).dropFirst()
        let written = lines.map { line -> String in
            let colon = line.firstIndex(of: ":")!
            return "\(line[..<colon])=\(line[line.index(colon, offsetBy: 2)...])"
        }
        #expect(written == expected.map { "\($0.name)=\($0.value)" })
        #expect(written.contains("X-HTTP-Method-Override=PUT"))
        #expect(written.contains("x-lower=spaced value"))
        #expect(!written.contains { $0.lowercased().contains("secret") || $0.contains("spoof") })
    }

    /// Where a buffer's bytes are.
    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test("a head's buffer is used again once no one else holds it, never while NIO may still write it")
    func recycledBuffers() {
        let allocator = ByteBufferAllocator()
        var recycled = RecycledBuffer()
        var first = recycled.take(capacity: 100, allocator: allocator)
        first.writeString("GET /a HTTP/1.1\r\n\r\n")
        recycled.keep(first)
        let firstAddress = Self.address(first)

        // Still held (as by a pending write): the next head gets storage of its own.
        var second = recycled.take(capacity: 100, allocator: allocator)
        #expect(Self.address(second) != firstAddress)
        second.writeString("GET /b HTTP/1.1\r\n\r\n")
        #expect(String(buffer: first) == "GET /a HTTP/1.1\r\n\r\n")
        recycled.keep(second)
        let secondAddress = Self.address(second)
        second = allocator.buffer(capacity: 0)

        // Let go of: the same storage, empty.
        let third = recycled.take(capacity: 100, allocator: allocator)
        #expect(third.readableBytes == 0 && Self.address(third) == secondAddress)
        recycled.keep(third)
        // More room asked for than it has: grown.
        #expect(recycled.take(capacity: 4_000, allocator: allocator).capacity >= 4_000)

        // A buffer grown past the limit is not kept: the next is a small new one.
        var large = allocator.buffer(capacity: RecycledBuffer.keptCapacity + 1)
        large.writeString("x")
        recycled.keep(large)
        large = allocator.buffer(capacity: 0)
        #expect(recycled.take(capacity: 10, allocator: allocator).capacity < RecycledBuffer.keptCapacity)
    }

    /// The client's head for the answer `text`, framed as the reader frames it (request id `rid`).
    static func clientHead(_ text: String, closing: Bool = false) throws -> ClientResponseHead {
        let answer = try response(text)
        return ClientResponseHead(
            answer, framing: answer.bodyFraming(requestWasHead: false), requestId: "rid", closing: closing,
            allocator: ByteBufferAllocator())
    }

    @Test("the client's answer head: hop-by-hop and listed fields dropped, the rest as received, framing its own")
    func clientResponseHead() throws {
        let head = try Self.clientHead(
            "HTTP/1.1 201 Made It\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                + "Keep-Alive: timeout=5\r\nSet-Cookie: a=1\r\nSet-Cookie: lg_session=x\r\n"
                + "Content-Length: 3\r\n\r\n")
        #expect(head.upstreamKeepsAlive)
        #expect(
            String(buffer: head.bytes)
                == "HTTP/1.1 201 Made It\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nContent-Length: 3\r\n"
                + "X-Request-Id: rid\r\n\r\n")
    }

    @Test("a chunked answer is chunked to the client; a close-delimited one closes; the upstream's close is read")
    func clientResponseFraming() throws {
        let head = try Self.clientHead(
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-Id: up\r\nConnection: keep-alive\r\n\r\n",
            closing: true)
        #expect(head.upstreamKeepsAlive)
        #expect(
            String(buffer: head.bytes)
                == "HTTP/1.1 200 OK\r\nX-Request-Id: up\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        let closing = try Self.clientHead("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        #expect(!closing.upstreamKeepsAlive)
        #expect(String(buffer: closing.bytes) == "HTTP/1.1 200 OK\r\nConnection: close\r\nX-Request-Id: rid\r\n\r\n")
        #expect(try !Self.clientHead("HTTP/1.0 204 No Content\r\n\r\n").upstreamKeepsAlive)
    }

    /// A response head made of random fields: hop-by-hop names and `Connection`
    /// options in any case, the gateway's cookies, tokens of every kind, spaces
    /// around values, a colon without a space.
    static func randomAnswer(_ random: inout SeededGenerator) -> String {
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func anyCase(_ text: String) -> String {
            String(text.map { random.next() % 2 == 0 ? Character($0.uppercased()) : $0 })
        }
        let names = [
            "content-type", "x-hop", "x-other", "keep-alive", "te", "trailer", "upgrade", "proxy-connection",
            "proxy-authenticate", "set-cookie", "x-request-id", "date", "server", "x!#$%&'*+.^_`|~1", "close",
            "connection", "content-length", "transfer-encoding",
        ]
        let options = ["close", "keep-alive", "x-hop", "X-Other", "upgrade", "te", "date", "", " ", "\tx-hop "]
        let cookies = ["a=1", "lg_session=x", " lg_session =y; Path=/", "lg_login_csrf=z", "lg_sessions=1", "=v"]
        var text = pick(["HTTP/1.1 200 OK", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 404 "])
        var framed = false
        for _ in 0..<Int(random.next() % 9) {
            let name = pick(names)
            let value: String
            switch name {
            case "connection":
                value = (0..<(1 + Int(random.next() % 3))).map { _ in anyCase(pick(options)) }.joined(separator: ",")
            case "set-cookie": value = pick(cookies)
            case "content-length", "transfer-encoding":
                guard !framed else { continue }
                framed = true
                value = name == "content-length" ? "0" : anyCase("chunked")
            default: value = pick(["1", "a b", "text/plain; q=1", "\u{E9}t\u{E9}", "", "x\ty"])
            }
            text += "\r\n" + anyCase(name) + pick([": ", ":", ":  "]) + value + pick(["", " ", "\t"])
        }
        return text + "\r\n\r\n"
    }

    @Test("the client's answer head read on bytes keeps the fields NIO's path keeps, for 5,000 random answers")
    func clientResponseHeadAgreesWithNIOPath() throws {
        var random = SeededGenerator(seed: 0x6865_6164)
        var compared = 0
        for _ in 0..<5_000 {
            let text = Self.randomAnswer(&random)
            guard case .head(let answer, _) = RawResponseHead.scan(ByteBuffer(string: text)) else { continue }
            compared += 1
            let framing = answer.bodyFraming(requestWasHead: false)
            let head = ClientResponseHead(
                answer, framing: framing, requestId: "rid", closing: false, allocator: ByteBufferAllocator())

            var nioHeaders = HTTPHeaders()
            for field in answer.fields {
                nioHeaders.add(name: answer.string(field.name), value: answer.string(field.value))
            }
            let connection = nioHeaders["connection"].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingSpaces().lowercased() }
            ForwardedHeaders.filterResponse(&nioHeaders)
            var expected = nioHeaders.compactMap { name, value -> String? in
                if name.lowercased() == "content-length", framing == .chunked || framing == .untilClose { return nil }
                return "\(name)=\(value)"
            }
            if framing == .chunked { expected.append("Transfer-Encoding=chunked") }
            if framing == .untilClose { expected.append("Connection=close") }
            if !nioHeaders.contains(name: "x-request-id") { expected.append("X-Request-Id=rid") }

            let written = String(buffer: head.bytes)
            let lines = written.dropLast(2).split(separator: "\r\n", omittingEmptySubsequences: false)
            #expect(lines.first == "HTTP/1.1" + text.dropFirst(8).prefix { $0 != "\r\n" }, "\(text)")
            let fields = lines.dropFirst().map { line -> String in
                let colon = line.firstIndex(of: ":")!
                return "\(line[..<colon])=\(line[line.index(colon, offsetBy: 2)...])"
            }
            #expect(fields == expected, "\(text)")
            let keepsAlive =
                !connection.contains("close") && (answer.minorVersion == 1 || connection.contains("keep-alive"))
            #expect(head.upstreamKeepsAlive == keepsAlive, "\(text)")
        }
        #expect(compared > 3_500)
    }
}
