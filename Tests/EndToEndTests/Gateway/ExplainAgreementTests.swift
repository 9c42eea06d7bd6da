import Foundation
import NIOHTTP1
import Testing

/// `linkgate explain` and `linkgate serve` decide with the same trace: for the
/// same policy folder and request, explain's verdict line names the status and
/// `error` that the gateway answers with.
@Suite("explain and serve agree", .serialized)
struct ExplainAgreementTests {
    @Test(
        "a context token: DENY invalid_token (401) on a route without contextJwt, ALLOW on one with it, in both",
        arguments: [
            ("/rest/api/3/project/PROJ", 401, "DENY invalid_token (401)"),
            ("/context/panel", 200, "ALLOW"),
        ])
    func contextToken(target: String, status: Int, verdict: String) async throws {
        let gateway = try await GatewayFixture()
        let token = try gateway.connectToken(method: "GET", target: "/ignored", qsh: "context-qsh")
        let served = try await gateway.send(.GET, target, headers: [("Authorization", "JWT \(token)")])
        #expect(served.status == status)
        let explained = try await LinkgateProcess.runAsync([
            "explain", "--policies", gateway.folder.path, "--app", GatewayFixture.reportsKey, "--context-token",
            "--method", "GET", "--path", target,
        ])
        #expect(explained.standardOutput.contains("verdict      \(verdict)"), "\(explained.standardOutput)")
        #expect(explained.status == (status == 200 ? 0 : 3))
        if status == 401 {
            #expect(served.json["error"] as? String == "invalid_token")
            #expect(explained.standardOutput.contains("context token"))
        }
    }

    @Test("a disabled app: the gateway's 401 invalid_token is explain's DENY, before any route is looked at")
    func disabledApp() async throws {
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/reports.json")) { $0["enabled"] = false }
        }
        let served = try await gateway.sendSigned(.GET, "/nowhere")
        #expect(served.status == 401)
        let explained = try await LinkgateProcess.runAsync([
            "explain", "--policies", gateway.folder.path, "--app", GatewayFixture.reportsKey,
            "--method", "GET", "--path", "/nowhere",
        ])
        #expect(explained.status == 3)
        #expect(
            explained.standardOutput.contains("verdict      DENY invalid_token (401)"), "\(explained.standardOutput)")
    }
}
