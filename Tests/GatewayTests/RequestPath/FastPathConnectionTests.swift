import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Gateway

/// How the fast path treats its connection around a refusal it writes itself.
@Suite("The fast path's connection handling")
struct FastPathConnectionTests {
    @Test("a refused request that asked to close, or that expects 100 Continue, closes the connection after its answer")
    func closesAfterRefusal() async throws {
        let harness = try await RequestPathHarness()
        for headers in [[("Connection", "close")], [("Expect", "100-continue"), ("Content-Length", "10")]] {
            let channel = EmbeddedChannel(
                handlers: [DataPlaneHandler(plane: harness.plane, readCounter: ReadCounter())], loop: harness.loop)
            // Finishing cancels the upstream pool's repeating sweep on the loop; left scheduled,
            // the loop and the task hold each other forever (LeakSanitizer, docs/testing.md "Sanitizers").
            defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
            let head = HTTPRequestHead(
                version: .http1_1, method: .GET, uri: "/rest/api/3/project/PROJ?a=%zz",
                headers: HTTPHeaders([("Host", "localhost")] + headers))
            try channel.writeInbound(HTTPServerRequestPart.head(head))
            harness.loop.run()
            var parts: [HTTPServerResponsePart] = []
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
            guard case .head(let answer) = parts.first else {
                Issue.record("no answer: \(parts)")
                continue
            }
            #expect(answer.status == .badRequest)
            #expect(answer.headers["Connection"] == ["close"], "\(headers)")
            #expect(!channel.isActive, "closed after the answer, \(headers)")
        }
        await harness.store.close()
    }
}
