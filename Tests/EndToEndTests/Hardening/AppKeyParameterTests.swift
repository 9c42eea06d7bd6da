import Foundation
import Testing

/// The example site's app-properties route binds `{addonKey}` to the calling app
/// (`appKeyParameter`): one app cannot read or write another app's properties
/// (docs/policies.md, "Safe patterns").
@Suite("Hardening: a route bound to the calling app")
struct AppKeyParameterEndToEndTests {
    static let properties = "/rest/atlassian-connect/1/addons"

    @Test("a context token reaches its own app's properties; another app's are a 403 that never reaches the upstream")
    func boundToCallingApp() async throws {
        let gateway = try await GatewayFixture()
        let context = try gateway.connectToken(method: "GET", target: "/ignored", qsh: "context-qsh")
        let own = try await gateway.send(
            .GET, "\(Self.properties)/\(GatewayFixture.reportsKey)/properties/colour",
            headers: [("Authorization", "JWT \(context)")])
        #expect(own.status == 200)
        #expect(own.forwardedHeaders["x-linkgate-app"] == [GatewayFixture.reportsKey])
        let before = try await gateway.upstreamCount()

        let other = try await gateway.send(
            .GET, "\(Self.properties)/\(GatewayFixture.automationKey)/properties/colour",
            headers: [("Authorization", "JWT \(context)")])
        #expect(other.status == 403)
        #expect(other.json["error"] as? String == "insufficient_permission")
        #expect(other.json["parameter"] as? String == "addonKey")
        #expect((other.json["error_description"] as? String)?.contains("calling app") == true)
        // A qsh-bound token of the same app fares no better on the other app's path.
        let signed = try await gateway.sendSigned(
            .GET, "\(Self.properties)/\(GatewayFixture.automationKey)/properties/colour")
        #expect(signed.status == 403)
        #expect(try await gateway.upstreamCount() == before)

        let explained = try await LinkgateProcess.runAsync([
            "explain", "--policies", gateway.folder.path, "--app", GatewayFixture.reportsKey, "--context-token",
            "--method", "GET", "--path", "\(Self.properties)/\(GatewayFixture.automationKey)/properties/colour",
        ])
        #expect(explained.standardOutput.contains("DENY insufficient_permission (403)"), "\(explained.standardOutput)")
    }
}
