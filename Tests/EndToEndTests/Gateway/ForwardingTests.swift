import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// docs/gateway.md §5: what the backend receives, seen by the real echo upstream.
@Suite("linkgate serve: what the backend receives (docs/gateway.md §5)", .serialized)
struct ForwardingTests {
    @Test("identity headers are added; Authorization, hop-by-hop and X-Linkgate-* in any spelling are removed")
    func identityAndStripping() async throws {
        let gateway = try await GatewayFixture()
        let spoofed: [(String, String)] = [
            ("X-Linkgate-Account-Id", "5b10ac8d82e05b22cc7d4ef5"), ("x-linkgate-app", "com.example.automation"),
            ("X-LINKGATE-AUTH", "basic"), ("X_Linkgate_Scopes", "ADMIN"), ("x_linkgate-account_id", "alice"),
            ("X-Linkgate", "bare"), ("X-LinkGate-Anything", "spoof"),
        ]
        let hopByHop: [(String, String)] = [
            ("Connection", "keep-alive, X-Hop-Custom"), ("X-Hop-Custom", "1"), ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"), ("Proxy-Authorization", "Basic Zm9vOmJhcg=="), ("Upgrade", "websocket"),
        ]
        let kept: [(String, String)] = [
            ("X-Custom", "value 1"), ("Accept", "application/json"), ("X-Forwarded-For", "203.0.113.9"),
        ]
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ", headers: spoofed + hopByHop + kept)
        #expect(reply.status == 200)
        let headers = reply.forwardedHeaders
        #expect(headers["x-linkgate-account-id"] == ["app-reports"])
        #expect(headers["x-linkgate-app"] == ["com.example.reports"])
        #expect(headers["x-linkgate-auth"] == ["jwt"])
        #expect(headers["x-linkgate-scopes"] == ["READ"])
        let gatewayOwned = headers.keys.filter { $0.replacingOccurrences(of: "_", with: "-").hasPrefix("x-linkgate") }
        #expect(
            Set(gatewayOwned) == ["x-linkgate-account-id", "x-linkgate-app", "x-linkgate-auth", "x-linkgate-scopes"])
        for name in [
            "authorization", "connection", "x-hop-custom", "keep-alive", "te", "proxy-authorization", "upgrade",
        ] {
            #expect(headers[name] == nil, "\(name) must not be forwarded")
        }
        #expect(headers["x-custom"] == ["value 1"])
        #expect(headers["accept"] == ["application/json"])
        #expect(headers["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"])
        #expect(headers["x-forwarded-proto"] == ["http"])
        #expect(headers["x-forwarded-host"] == ["127.0.0.1:\(gateway.port)"])
        let requestId = try #require(headers["x-request-id"]?.first)
        #expect(requestId.count == 32 && requestId.allSatisfy(\.isHexDigit))
    }

    @Test("a client's X-Request-Id is kept; anonymous public requests say anonymous and carry no identity")
    func requestIdAndAnonymous() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.send(
            .GET, "/status", headers: [("X-Request-Id", "trace-abc-123"), ("X-Linkgate-Account-Id", "alice")])
        #expect(reply.status == 200)
        let headers = reply.forwardedHeaders
        #expect(headers["x-request-id"] == ["trace-abc-123"])
        #expect(headers["x-linkgate-auth"] == ["anonymous"])
        #expect(headers["x-linkgate-account-id"] == nil)
        #expect(headers["x-linkgate-app"] == nil)
        let refused = try await gateway.send(.GET, "/rest/api/3/project/PROJ", headers: [("X-Request-Id", "trace-xyz")])
        #expect(refused.headers["X-Request-Id"] == ["trace-xyz"], "the gateway's own answers carry the request id")
    }

    @Test("method, body and the upstream's status and headers pass unchanged")
    func methodBodyAndResponse() async throws {
        let gateway = try await GatewayFixture()
        let body = String(repeating: "payload-", count: 1000)
        let reply = try await gateway.sendSigned(
            .PUT, "/bulk/item?x=1",
            headers: [("Content-Type", "text/plain"), ("X-Echo-Status", "201"), ("X-Echo-Checksum", "1")],
            body: body)
        #expect(reply.status == 201)
        #expect(reply.json["method"] as? String == "PUT")
        #expect(reply.json["bodyBytes"] as? Int == body.utf8.count)
        #expect((reply.json["bodyChecksum"] as? NSNumber)?.uint64Value == Fletcher64.of(Array(body.utf8)))
        #expect(reply.forwardedHeaders["content-type"] == ["text/plain"])
        #expect(reply.headers["Content-Type"] == ["application/json"], "the upstream's headers come back")
    }

    @Test("Expect: 100-continue is answered at once, and the Expect header is not forwarded")
    func expectContinue() async throws {
        let gateway = try await GatewayFixture()
        let target = "/bulk/item"
        let token = try gateway.connectToken(method: "PUT", target: target)
        let body = "0123456789"
        let head =
            "PUT \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: JWT \(token)\r\nContent-Length: \(body.count)\r\n"
            + "Expect: 100-continue\r\nConnection: close\r\n\r\n"
        let (interim, final) = try RawHTTP.expectContinue(port: gateway.port, head: head, body: body)
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        #expect(final.status == 200 || final.text.contains("HTTP/1.1 200 OK"))
        #expect(final.text.contains("\"bodyBytes\":10"))
        #expect(!final.text.lowercased().contains("\"expect\""))
    }

    @Test("a 1 GiB upload and a 1 GiB download stream through without the gateway holding them in memory")
    func streaming() async throws {
        try await LoadGate.shared.exclusively {
            let gateway = try await GatewayFixture()
            let size = 1 << 30
            let before = try #require(gateway.gateway.memory())

            let uploadTarget = "/bulk/big"
            let token = try gateway.connectToken(method: "PUT", target: uploadTarget)
            var upload = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)\(uploadTarget)")
            upload.method = .PUT
            upload.headers.add(name: "Authorization", value: "JWT \(token)")
            upload.body = .stream(ChunkSequence(total: size), length: .known(Int64(size)))
            let uploaded = try await gateway.client.execute(upload, timeout: .seconds(300))
            let echo =
                try JSONSerialization.jsonObject(
                    with: Data(String(buffer: try await uploaded.body.collect(upTo: 1 << 20)).utf8)) as? [String: Any]
            #expect(uploaded.status == .ok)
            #expect(echo?["bodyBytes"] as? Int == size)

            let downloadTarget = "/bulk/big"
            var download = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)\(downloadTarget)")
            download.headers.add(
                name: "Authorization", value: "JWT \(try gateway.connectToken(method: "GET", target: downloadTarget))")
            download.headers.add(name: "X-Echo-Bytes", value: String(size))
            let response = try await gateway.client.execute(download, timeout: .seconds(300))
            #expect(response.status == .ok)
            #expect(response.headers["Content-Length"] == [String(size)])
            var received = 0
            for try await chunk in response.body { received += chunk.readableBytes }
            #expect(received == size)

            let after = try #require(gateway.gateway.memory())
            let grownMB = (after.peakKB - before.currentKB) / 1024
            #expect(grownMB < 128, "the gateway's peak memory grew by \(grownMB) MB while streaming 2 GiB")
        }
    }
}

/// `total` bytes in 64 KiB chunks, made as the client asks for them.
struct ChunkSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let total: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var left: Int
        let chunk = ByteBuffer(repeating: UInt8(ascii: "z"), count: 64 * 1024)

        mutating func next() async -> ByteBuffer? {
            guard left > 0 else { return nil }
            let size = Swift.min(left, chunk.readableBytes)
            left -= size
            return chunk.getSlice(at: 0, length: size)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(left: total) }
}

/// The echo's body checksum, computed on what the test sent.
enum Fletcher64 {
    static func of(_ bytes: [UInt8]) -> UInt64 {
        var low: UInt64 = 0
        var high: UInt64 = 0
        for byte in bytes {
            low = (low &+ UInt64(byte)) % 0xFFFF_FFFF
            high = (high &+ low) % 0xFFFF_FFFF
        }
        return high << 32 | low
    }
}
