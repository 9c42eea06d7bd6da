import Foundation
import Testing

/// A third-party client: Python's PyJWT and requests (from PyPI, in the
/// virtual environment `make test` makes) drive the JWT bearer grant.
@Suite("Interoperability: PyJWT and requests")
struct InteropEndToEndTests {
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop/jwt_bearer_client.py").path

    @Test(
        "PyJWT signs the assertion, requests exchanges it and calls the API; the token verifies against the JWKS",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func pyjwtClient() async throws {
        // The client checks the token's issuer and fetches the JWKS from the base URL: make it the real listener.
        let port = try GatewayFixture.closedPort()
        let base = "http://127.0.0.1:\(port)"
        let fixture = try await GatewayFixture(store: nil, listen: "127.0.0.1:\(port)") { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) { $0["baseUrl"] = base }
        }
        let output = try await ClientScript.run(
            try #require(Self.python),
            [
                Self.script, "--token-url", base + "/oauth2/token", "--api-url", base + "/rest/api/3/project/PROJ",
                "--client-id", "automation-2loi-client", "--secret", GatewayFixture.automationSecret,
                "--account-id", ExampleSite.alice, "--tenant", base, "--scope", "READ WRITE",
            ])
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        #expect(result["token_status"] as? Int == 200, "\(result)")
        let response = result["token_response"] as? [String: Any]
        #expect(response?["token_type"] as? String == "Bearer")
        #expect(response?["scope"] as? String == "READ WRITE")
        #expect((result["token_headers"] as? [String: Any])?["cache-control"] as? String == "no-store")
        #expect(result["jwks_verified"] as? Bool == true, "\(result["jwks_error"] ?? "")")
        #expect(result["api_status"] as? Int == 200, "\(result)")
        #expect(result["replay_status"] as? Int == 400)
        #expect((result["replay_response"] as? [String: Any])?["error"] as? String == "invalid_grant")
        withExtendedLifetime(fixture) {}  // the gateway serves until the client is done
    }
}
