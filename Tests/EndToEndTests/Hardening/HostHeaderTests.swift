import Foundation
import Testing

/// RFC 9112 §3.2: an HTTP/1.1 request has exactly one `Host`, without userinfo.
@Suite("Hardening: Host")
struct HostHeaderTests {
    @Test(
        "no Host, two Host headers, or userinfo in Host is a 400, on the proxy and the gateway's endpoints",
        arguments: [
            "GET /status HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            "GET /status HTTP/1.1\r\nHost: user@127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /.well-known/jwks.json HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        ])
    func refused(request: String) async throws {
        let gateway = try await GatewayFixture()
        let reply = try RawHTTP.send(port: gateway.port, request)
        #expect(reply.status == 400, "\(reply.text.prefix(300))")
        #expect(reply.text.contains("invalid_request"))
        #expect(try await gateway.upstreamCount() == 0)
        let plain = try RawHTTP.get(port: gateway.port, "/status")
        #expect(plain.status == 200)
    }
}
