import Foundation
import Testing

/// Third-party clients of the 3LO flow: a real browser (Debian's Chromium,
/// driven by Selenium) and a real OAuth library (Python's authlib).
@Suite("Interoperability: Chromium and authlib through 3LO")
struct ThreeLeggedInteropTests {
    static let environment = ProcessInfo.processInfo.environment
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop")
    /// `artifacts/` at the repository root: screenshots of the consent page.
    static let artifacts = interop.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "artifacts")

    @Test(
        "Chromium signs in, sees the consent page (screenshot saved), approves or denies, and lands on the callback",
        .enabled(
            if: environment["LINKGATE_BROWSER"] != nil,
            "needs LINKGATE_BROWSER=1 and scripts/browser-deps.sh (make test)"),
        arguments: ["approve", "deny"])
    func browser(decision: String) async throws {
        let callbackPort = try GatewayFixture.closedPort()
        let callback = "http://127.0.0.1:\(callbackPort)/callback"
        let fixture = try await GatewayFixture(.sqlite) { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/automation.json")) { app in
                var client = app["oauth2"] as! [String: Any]
                client["redirectUris"] = [callback]
                app["oauth2"] = client
            }
        }
        let (_, challenge) = ThreeLegged.pkce()
        let url =
            "http://127.0.0.1:\(fixture.port)/authorize?"
            + ThreeLegged.query(
                redirect: callback, scope: "read:jira-work write:jira-work offline_access",
                challenge: challenge)
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let screenshot = Self.artifacts.appendingPathComponent("consent-\(decision).png").path
        let output = try await ClientScript.run(
            "/usr/bin/python3",
            [
                Self.interop.appendingPathComponent("browser_consent.py").path, "--authorize-url", url,
                "--callback-port", String(callbackPort), "--username", "alice", "--password", "alice-demo-password",
                "--decision", decision, "--screenshot", screenshot, "--timeout", "40",
            ] + (decision == "deny" ? ["--mobile"] : []))
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        #expect(result["error"] == nil, "\(result)")
        #expect(result["login_seen"] as? Bool == true)
        #expect(result["consent_title"] as? String == "Authorize Automation")
        let scopes = (result["scopes"] as? [[String: Any]])?.compactMap { $0["scope"] as? String }
        #expect(scopes == ["read:jira-work", "write:jira-work", "offline_access"])
        let query = (result["callback"] as? [String: Any])?["query"] as? [String: String]
        #expect(query?["state"] == "st-123")
        if decision == "approve" {
            #expect(query?["code"]?.isEmpty == false, "\(result)")
        } else {
            #expect(query?["error"] == "access_denied" && query?["code"] == nil, "\(result)")
        }
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }

    @Test(
        "authlib completes the code exchange with PKCE, calls the API, refreshes; the spent refresh token is refused",
        .enabled(if: environment["LINKGATE_PYTHON"] != nil, "needs LINKGATE_PYTHON (make test sets it up)"),
        arguments: [true, false])
    func authlib(confidential: Bool) async throws {
        let fixture = try await GatewayFixture(.sqlite) {
            try ThreeLegged.edit($0, lifetimes: ["refreshTokenReuseGrace": 0])
        }
        let output = try await ClientScript.run(
            try #require(Self.environment["LINKGATE_PYTHON"]),
            [
                Self.interop.appendingPathComponent("authlib_client.py").path,
                "--base-url", "http://127.0.0.1:\(fixture.port)",
                "--client-id", confidential ? ThreeLegged.clientID : ThreeLegged.publicClientID,
                "--redirect-uri", confidential ? ThreeLegged.redirectURI : ThreeLegged.publicRedirectURI,
                "--scope", "read:jira-work read:me offline_access", "--username", "alice@example.com",
                "--password", "alice-demo-password", "--api-path", "/rest/api/3/myself",
            ] + (confidential ? ["--client-secret", ThreeLegged.clientSecret] : []))
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        #expect(result["error"] == nil, "\(result)")
        #expect(result["authorize_redirect_to_login"] as? Bool == true)
        #expect(result["callback_state_ok"] as? Bool == true)
        let token = result["token"] as? [String: Any]
        #expect(token?["has_access_token"] as? Bool == true && token?["has_refresh_token"] as? Bool == true)
        #expect(token?["expires_in"] as? Int == 3600)
        #expect(result["api_status"] as? Int == 200)
        #expect((result["resources"] as? [[String: Any]])?.first?["url"] as? String == GatewayFixture.site)
        let refresh = result["refresh"] as? [String: Any]
        #expect(refresh?["status"] as? String == "ok" && refresh?["rotated"] as? Bool == true, "\(result)")
        let reuse = result["old_refresh_reuse"] as? [String: Any]
        #expect(reuse?["status"] as? Int == 400 && reuse?["error"] as? String == "invalid_grant", "\(result)")
    }
}
