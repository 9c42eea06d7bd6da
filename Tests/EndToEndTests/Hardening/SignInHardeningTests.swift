import Foundation
import Testing

/// Findings on the sign-in pages and the request head, through the real binary
/// (docs/grants.md, "3LO"; docs/gateway.md §4).
@Suite("Hardening: sign-in return paths, sign-out CSRF, guessing under an alias, the head limit on endpoints")
struct SignInHardeningTests {
    @Test("return_to with a tab before a second slash is not followed after sign-in")
    func tabInReturnPath() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        let signedIn = try await agent.signIn(at: "/login?return_to=%2F%09%2Fevil.example%2F")
        #expect(signedIn.status == 303)
        #expect(signedIn.headers["Location"] == ["/account/apps"])
    }

    @Test("POST /logout without the session's CSRF token is a 403 and the session stays")
    func logoutNeedsCSRF() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        #expect(try await agent.signIn(at: "/login").status == 303)
        let forged = try await agent.post("/logout", fields: [("csrf", "forged")])
        #expect(forged.status == 403)
        #expect(forged.headers["Set-Cookie"].isEmpty, "the session cookie is not cleared")
        #expect(try await agent.get("/account/apps").status == 200, "still signed in")
    }

    @Test("after five wrong passwords for a name, its email is refused too (429): one count per account")
    func aliasSharesTheCount() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var attacker = BrowserAgent(fixture)
        for attempt in 0..<5 {
            let reply = try await attacker.signIn(at: "/login", username: "bob", password: "wrong-\(attempt)")
            #expect(reply.status == 401)
        }
        let alias = try await attacker.signIn(at: "/login", username: "bob@example.com", password: "wrong-again")
        #expect(alias.status == 429)
        #expect(alias.headers["Retry-After"].first.flatMap(Int.init) ?? 0 > 0)
    }

    @Test("a head over 16 KiB is a 431 on the token endpoint as on the proxy")
    func headLimitOnEndpoints() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let filler = (0..<20).map { ("X-Filler-\($0)", String(repeating: "b", count: 1000)) }
        let reply = try await fixture.send(.POST, "/oauth2/token", headers: filler)
        #expect(reply.status == 431)
        #expect(reply.json["error"] as? String == "invalid_request")
    }
}
