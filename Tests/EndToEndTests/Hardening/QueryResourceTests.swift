import Foundation
import Testing

/// A `{query.NAME}` resource must be the one the backend reads: a request that
/// also sends a name other servers fold into NAME is refused (docs/policies.md §7).
@Suite("Hardening: lookalike query parameters make the resource ambiguous")
struct QueryResourceTests {
    @Test(
        "a lookalike of projectKey beside it is a 403 and never reaches the upstream",
        arguments: [
            "projectKey=PROJ&ProjectKey=SECRET", "projectKey=PROJ&projectKey%5B%5D=SECRET",
            "projectKey=PROJ&+projectKey=SECRET", "projectKey=PROJ;projectKey=SECRET",
        ])
    func lookalike(query: String) async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/issue/PROJ-1?" + query)
        #expect(reply.status == 403)
        #expect(reply.json["error"] as? String == "insufficient_permission")
        #expect(try await gateway.upstreamCount() == 0)
        let plain = try await gateway.sendSigned(.GET, "/rest/api/3/issue/PROJ-1?projectKey=PROJ")
        #expect(plain.status == 200)
    }
}
