import Foundation
import Testing

/// RFC 9112 §6.3: a request whose last transfer coding is not `chunked` has no
/// knowable length: it is a 400 and the connection closes.
@Suite("Hardening: Transfer-Encoding")
struct TransferEncodingTests {
    @Test(
        "a last coding other than chunked is a 400 that closes the connection and reaches no upstream",
        arguments: ["gzip", "xchunked", "identity", "chunked, gzip"])
    func refused(coding: String) async throws {
        let gateway = try await GatewayFixture()
        let request =
            "POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: \(coding)\r\n\r\n"
            + "5\r\nhello\r\n0\r\n\r\nGET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        let reply = try RawHTTP.send(port: gateway.port, request, timeout: 5)
        #expect(reply.status == 400, "\(reply.text.prefix(300))")
        #expect(reply.text.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer, then the connection closed")
        #expect(try await gateway.upstreamCount() == 0)
    }
}
