import Foundation
import Testing

/// The byte path (docs/gateway.md §3, "The byte path") through the real binary: the
/// answers' framing relayed as bytes (chunked with extensions, its trailer dropped,
/// close delimited, interim answers, HEAD), answers it must not relay, pipelined requests
/// taken one at a time, and the same forwarded head as NIO's path.
@Suite("linkgate serve: the byte path", .serialized)
struct BytePathTests {
    /// A gateway with `/frame/{rest*}` (GET, HEAD; scope READ) routed to a `FramingUpstream`.
    static func fixture() async throws -> (GatewayFixture, FramingUpstream) {
        let upstream = try await FramingUpstream()
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.addRoute(
                to: folder, upstream: "framing", port: upstream.port, path: "/frame/{rest*}", methods: ["GET", "HEAD"],
                requestTimeoutMs: 3000)
        }
        return (gateway, upstream)
    }

    static func request(
        _ gateway: GatewayFixture, _ method: String, _ target: String, extra: String = ""
    ) throws
        -> String
    {
        let token = try gateway.connectToken(method: method, target: target)
        return "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(gateway.port)\r\nAuthorization: JWT \(token)\r\n"
            + extra + "\r\n"
    }

    @Test(
        "chunked, close-delimited, interim and HEAD answers reach the client framed as the upstream framed them",
        .enabled(if: ServerProcess.python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func framing() async throws {
        let (gateway, upstream) = try await Self.fixture()
        let connection = try RawConnection(port: gateway.port)
        try connection.write(try Self.request(gateway, "GET", "/frame/chunked"))
        let chunked = try connection.readResponse()
        #expect(chunked.status == 200, "\(chunked)")
        #expect(chunked.header("Transfer-Encoding") == ["chunked"], "\(chunked)")
        #expect(String(decoding: chunked.body, as: UTF8.self) == "hello world", "\(chunked)")
        #expect(chunked.header("X-Request-Id").count == 1, "the gateway adds the request id: \(chunked)")
        #expect(chunked.trailers.isEmpty, "trailer fields are dropped, as on NIO's path: \(chunked.trailers)")

        try connection.write(try Self.request(gateway, "GET", "/frame/interim"))
        let interim = try connection.readResponse()
        #expect(interim.status == 200, "the 103 is not relayed: \(interim)")
        #expect(String(decoding: interim.body, as: UTF8.self) == "ok")

        try connection.write(try Self.request(gateway, "HEAD", "/frame/head"))
        let head = try connection.readResponse(noBody: true)
        #expect(head.status == 200, "\(head)")
        #expect(head.header("Content-Length") == ["100"], "a HEAD answer keeps its length, without the body: \(head)")

        // The same connection still serves: nothing of the HEAD answer was taken for a body.
        try connection.write(try Self.request(gateway, "GET", "/frame/close"))
        let untilClose = try connection.readResponse()
        #expect(untilClose.status == 200, "\(untilClose)")
        #expect(untilClose.closesConnection, "a close-delimited answer closes the client's connection: \(untilClose)")
        #expect(String(decoding: untilClose.body, as: UTF8.self) == "until the end", "\(untilClose)")
        #expect(try upstream.requests() == 4)
    }

    @Test(
        "an answer the byte path cannot relay faithfully is a 502 before its head, a closed connection after it",
        .enabled(if: ServerProcess.python != nil, "needs LINKGATE_PYTHON (make test sets it up)"),
        arguments: [("gzip", 502), ("switch", 502), ("garbage", 502)])
    func unrelayable(mode: String, status: Int) async throws {
        let (gateway, upstream) = try await Self.fixture()
        let connection = try RawConnection(port: gateway.port)
        try connection.write(try Self.request(gateway, "GET", "/frame/\(mode)"))
        let answer = try connection.readResponse()
        #expect(answer.status == status, "\(answer)")
        #expect(answer.json["error"] as? String == "bad_gateway", "\(answer)")
        // The client's connection is still good for the next request.
        try connection.write(try Self.request(gateway, "GET", "/frame/chunked"))
        let next = try connection.readResponse()
        #expect(next.status == 200, "\(next)")
        withExtendedLifetime(upstream) {}
    }

    @Test(
        "bytes after an answer's body are not relayed and its upstream connection is not used again",
        .enabled(if: ServerProcess.python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func bytesAfterBody() async throws {
        let (gateway, upstream) = try await Self.fixture()
        let connection = try RawConnection(port: gateway.port)
        // The body and a second answer arrive in one read: the body goes out in the head's buffer.
        try connection.write(try Self.request(gateway, "GET", "/frame/overrun"))
        let first = try connection.readResponse()
        #expect(first.status == 200, "\(first)")
        #expect(String(decoding: first.body, as: UTF8.self) == "hello", "\(first)")
        try connection.write(try Self.request(gateway, "GET", "/frame/chunked"))
        let next = try connection.readResponse()
        #expect(String(decoding: next.body, as: UTF8.self) == "hello world", "not the bytes after the body: \(next)")
        #expect(try upstream.requests() == 2)
        #expect(try upstream.connections() == 2, "the first answer's connection was not used again")
    }

    @Test(
        "two Authorization headers, the first a valid Connect JWT: 400 two_credentials, nothing forwarded",
        .enabled(if: ServerProcess.python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func twoAuthorizations() async throws {
        let (gateway, upstream) = try await Self.fixture()
        let connection = try RawConnection(port: gateway.port)
        try connection.write(try Self.request(gateway, "GET", "/frame/chunked", extra: "Authorization: Bearer x\r\n"))
        let answer = try connection.readResponse()
        #expect(answer.status == 400, "\(answer)")
        #expect(answer.json["error"] as? String == "invalid_request", "\(answer)")
        #expect(String(decoding: answer.body, as: UTF8.self).contains("2 credentials"), "\(answer)")
        #expect(try upstream.requests() == 0)
    }

    @Test(
        "a chunk size that is not hex, after the head was relayed: the client's connection closes",
        .enabled(if: ServerProcess.python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func badChunkAfterHead() async throws {
        let (gateway, upstream) = try await Self.fixture()
        let connection = try RawConnection(port: gateway.port)
        try connection.write(try Self.request(gateway, "GET", "/frame/bad-chunk"))
        let head = try connection.readHead()
        #expect(head.status == 200, "\(head)")
        #expect(connection.waitForClose(timeout: 5), "the rest of the answer cannot follow")
        withExtendedLifetime(upstream) {}
    }

    @Test("pipelined GETs on the byte path come back in order; the first other request hands the connection over")
    func pipelined() async throws {
        let gateway = try await GatewayFixture()
        let targets = ["/bulk/a", "/bulk/b", "/bulk/c"]
        var requests = try targets.enumerated().map { index, target in
            // The first answers last at the upstream: the others must wait for it.
            try Self.request(gateway, "GET", target, extra: index == 0 ? "X-Echo-Delay-Ms: 200\r\n" : "")
        }
        requests.append("GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        requests.append(try Self.request(gateway, "GET", "/bulk/d", extra: "Connection: close\r\n"))
        let connection = try RawConnection(port: gateway.port)
        try connection.write(requests.joined())
        let responses = try connection.readResponses(requests.count)
        #expect(responses.map(\.status) == [200, 200, 200, 200, 200], "\(responses)")
        #expect(responses.prefix(3).map { $0.json["target"] as? String } == targets, "\(responses)")
        #expect(responses[3].json["issuer"] is String, "\(responses[3])")
        #expect(responses[4].json["target"] as? String == "/bulk/d", "\(responses[4])")
        #expect(connection.readToEnd(timeout: 5) == [], "closed after the last answer")
    }

    /// A connection keeps the request counter of its last answer; another route or
    /// status on the same connection must count under its own labels.
    @Test("one keep-alive connection's answers are counted under each answer's route, method and status")
    func countedPerLabels() async throws {
        let gateway = try await GatewayFixture()
        let connection = try RawConnection(port: gateway.port)
        let sent: [(target: String, extra: String, status: Int)] = [
            ("/bulk/a", "", 200), ("/bulk/b", "X-Echo-Status: 404\r\n", 404), ("/bulk/c", "", 200),
            ("/rest/api/3/project/PROJ", "", 200), ("/bulk/d", "", 200),
        ]
        for request in sent {
            try connection.write(try Self.request(gateway, "GET", request.target, extra: request.extra))
            let answer = try connection.readResponses(1)
            #expect(answer.map(\.status) == [request.status], "\(request.target): \(answer)")
        }
        func count(_ route: String, _ status: Int) async throws -> Double? {
            try await gateway.metric("linkgate_requests_total{route=\"\(route)\",method=\"GET\",status=\"\(status)\"}")
        }
        #expect(try await count("/bulk/{name}", 200) == 3)
        #expect(try await count("/bulk/{name}", 404) == 1)
        #expect(try await count("/rest/api/3/project/{projectIdOrKey}", 200) == 1)
        #expect(try await gateway.metric("linkgate_byte_path_total{event=\"handed_off\"}") ?? 0 == 0)
    }

    @Test("pipelined requests past a head's limit wait while a slow one is forwarded, then all are answered in order")
    func pipelinedPastTheLimit() async throws {
        let gateway = try await GatewayFixture()
        // 40 requests of about 1.2 KiB each: about 48 KiB behind the first, more than the
        // 20 KiB the byte path takes in while it forwards one (docs/gateway.md §3): the
        // rest waits in the kernel's buffers until the first answer is relayed.
        let padding = "X-Padding: " + String(repeating: "p", count: 600) + "\r\n"
        let targets = (0..<40).map { "/bulk/\($0)" }
        let requests = try targets.enumerated().map { index, target in
            try Self.request(gateway, "GET", target, extra: padding + (index == 0 ? "X-Echo-Delay-Ms: 300\r\n" : ""))
        }
        try #require(requests.dropFirst().joined().utf8.count > 20 * 1024)
        let connection = try RawConnection(port: gateway.port)
        try connection.write(requests.joined())
        let responses = try connection.readResponses(requests.count, timeout: 20)
        #expect(responses.map(\.status) == Array(repeating: 200, count: targets.count), "\(responses.map(\.status))")
        #expect(responses.map { $0.json["target"] as? String } == targets)
        #expect(try await gateway.metric("linkgate_byte_path_total{event=\"handed_off\"}") ?? 0 == 0)
    }

    @Test("the byte path and NIO's path forward the same head for the same request")
    func sameHeadBothPaths() async throws {
        let gateway = try await GatewayFixture()
        let target = "/bulk/a%20b?b=2&a=%7C&c"
        let extra =
            "X-Forwarded-For: 10.1.2.3\r\nForwarded: for=10.1.2.3\r\nX-Linkgate-App: spoof\r\nX_Linkgate_Auth: spoof\r\n"
            + "X-Original-URL: /admin\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Custom:  two  spaces \r\n"
            + "Accept: */*\r\nX-Request-Id: same-id\r\nConnection: keep-alive\r\n"
        let request = try Self.request(gateway, "GET", target, extra: extra)

        let forwarded = "linkgate_byte_path_total{event=\"forwarded\"}"
        let handedOff = "linkgate_byte_path_total{event=\"handed_off\"}"
        let bytePath = try RawConnection(port: gateway.port)
        try bytePath.write(request)
        let byByte = try bytePath.readResponse()
        #expect(try await gateway.metric(forwarded) == 1)
        #expect(try await gateway.metric(handedOff) == 0)
        // Handed over by an endpoint request first, the same request goes through NIO's handlers.
        let nioPath = try RawConnection(port: gateway.port)
        try nioPath.write("GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + request)
        let byNIO = try nioPath.readResponses(2)[1]
        #expect(try await gateway.metric(forwarded) == 1, "the second went through NIO's handlers")
        #expect(try await gateway.metric(handedOff) == 1)

        #expect(byByte.status == byNIO.status, "\(byByte) \(byNIO)")
        let byteView = byByte.json
        let nioView = byNIO.json
        #expect(byteView["target"] as? String == nioView["target"] as? String, "\(byteView) \(nioView)")
        let byteHeaders = (byteView["headers"] as? [[String]]) ?? []
        let nioHeaders = (nioView["headers"] as? [[String]]) ?? []
        #expect(!byteHeaders.isEmpty)
        #expect(byteHeaders == nioHeaders, "byte path: \(byteHeaders)\nNIO's path: \(nioHeaders)")
        #expect(
            byByte.headers.map { "\($0.name.lowercased())=\($0.value)" }.filter { !$0.hasPrefix("date=") }
                == byNIO.headers.map { "\($0.name.lowercased())=\($0.value)" }.filter { !$0.hasPrefix("date=") },
            "the answers' heads: \(byByte.headers) \(byNIO.headers)")
    }
}

/// An upstream answering canned HTTP/1.1 answers by the path's last segment, raw
/// sockets (Python's standard library, run with `LINKGATE_PYTHON`), keep-alive:
///
/// - `chunked`: `hello world` in two chunks, with a chunk extension and a trailer field;
/// - `interim`: a `103 Early Hints`, then a 200 of `ok`;
/// - `head`: a 200 with `Content-Length: 100` and no body (the answer to a HEAD);
/// - `close`: a 200 with neither length nor chunks, its body ended by closing;
/// - `gzip`: `Transfer-Encoding: gzip, chunked`; `switch`: a 101; `garbage`: not HTTP;
/// - `bad-chunk`: a chunked 200 whose first chunk size is not hex;
/// - `overrun`: a 200 of `hello` with a second answer right behind it, in one send.
final class FramingUpstream: PythonUpstream {

    init() async throws {
        try await super.init(script: Self.script, name: "framing upstream")
    }

    /// How many requests it read.
    func requests() throws -> Int {
        Int(String(decoding: try RawConnection.get(port: port, "/__count").body, as: UTF8.self)) ?? -1
    }

    /// On how many connections it read them.
    func connections() throws -> Int {
        Int(String(decoding: try RawConnection.get(port: port, "/__connections").body, as: UTF8.self)) ?? -1
    }

    static let script = #"""
        import socket, threading

        lock = threading.Lock()
        count = [0]
        connections = [0]
        ANSWERS = {
            "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                       b"5;note=\"a b\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            "interim": b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "head": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
            "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
            "gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "switch": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
            "garbage": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
            "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
            "overrun": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                       b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled",
        }

        def serve(conn):
            with conn:
                buffer = b""
                counted = False
                try:
                    conn.settimeout(30)
                    while True:
                        while b"\r\n\r\n" not in buffer:
                            data = conn.recv(65536)
                            if not data:
                                return
                            buffer += data
                        head, _, buffer = buffer.partition(b"\r\n\r\n")
                        target = head.split(b"\r\n")[0].split(b" ")[1].decode()
                        if target in ("/__count", "/__connections"):
                            with lock:
                                body = str(count[0] if target == "/__count" else connections[0]).encode()
                            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                            return
                        with lock:
                            count[0] += 1
                            if not counted:
                                connections[0] += 1
                                counted = True
                        mode = target.split("?")[0].rsplit("/", 1)[-1]
                        conn.sendall(ANSWERS.get(mode, ANSWERS["garbage"]))
                        if mode in ("close", "switch", "garbage", "bad-chunk"):
                            return
                except OSError:
                    pass

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        print("framing-upstream: listening on http://127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#
}
