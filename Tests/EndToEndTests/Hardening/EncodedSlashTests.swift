import Foundation
import Testing

/// A `%2F` inside a segment is decided as one segment; a backend that decodes it
/// before routing would see two (docs/policies.md §7, `encodedSlash`).
@Suite("Hardening: an encoded / in the path")
struct EncodedSlashEndToEndTests {
    @Test("a %2F in a path segment is a 400 and never reaches the upstream")
    func refused() async throws {
        let gateway = try await GatewayFixture()
        // A path that normalises to itself, so only the encoded-slash rule can refuse it.
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ%2Fsecret")
        #expect(reply.status == 400)
        #expect(reply.json["error"] as? String == "invalid_request")
        #expect((reply.json["error_description"] as? String)?.contains("%2F") == true)
        #expect(try await gateway.upstreamCount() == 0)
        let explained = try await LinkgateProcess.runAsync([
            "explain", "--policies", gateway.folder.path, "--app", GatewayFixture.reportsKey, "--method", "GET",
            "--path", "/rest/api/3/project/A%2FB",
        ])
        #expect(explained.standardOutput.contains("DENY invalid_request (400)"), "\(explained.standardOutput)")
    }
}
