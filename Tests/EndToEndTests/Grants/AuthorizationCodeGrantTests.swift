import Foundation
import JWT
import Testing

/// The authorization code and refresh token grants, the 3LO token on the proxy,
/// accessible-resources and connected apps, on each store.
@Suite("3LO: codes, refresh tokens, connected apps")
struct AuthorizationCodeGrantTests {
    static let target = "/rest/api/3/project/PROJ"

    @Test(
        "a code becomes a 3LO token and a refresh token; the token acts as the user within the consent",
        arguments: StoreKind.available)
    func exchange(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let tokens = try await fixture.threeLeggedTokens(scope: "read:jira-work offline_access")
        #expect(tokens["token_type"] as? String == "Bearer")
        #expect(tokens["expires_in"] as? Int == 3600)
        #expect(tokens["scope"] as? String == "read:jira-work offline_access")
        let access = try #require(tokens["access_token"] as? String)
        #expect(tokens["refresh_token"] is String)
        let proxied = try await fixture.sendBearer(.GET, Self.target, token: access)
        #expect(proxied.status == 200, "\(proxied.body)")
        #expect(proxied.forwardedHeaders["x-linkgate-auth"] == ["authorization-code"])
        #expect(proxied.forwardedHeaders["x-linkgate-account-id"] == [ExampleSite.alice])
        // Consented read only: writing is out of scope.
        let write = try await fixture.sendBearer(.PUT, "/rest/api/3/issue/PROJ-1?projectKey=PROJ", token: access)
        #expect(write.status == 403 && write.json["error"] as? String == "insufficient_scope")
        // Without offline_access there is no refresh token.
        let online = try await fixture.threeLeggedTokens(scope: "read:jira-work")
        #expect(online["refresh_token"] == nil)
        // The user's permissions apply: bob cannot browse SECRET.
        let bob = try await fixture.threeLeggedTokens(
            scope: "read:jira-work", username: "bob", password: "bob-demo-password")
        let secret = try await fixture.sendBearer(
            .GET, "/rest/api/3/project/SECRET", token: try #require(bob["access_token"] as? String))
        #expect(secret.status == 403 && secret.json["error"] as? String == "insufficient_permission")

        // accessible-resources names the site and the token's scopes.
        let resources = try await fixture.sendBearer(.GET, "/oauth/token/accessible-resources", token: access)
        #expect(resources.status == 200)
        let list = try JSONSerialization.jsonObject(with: Data(resources.body.utf8)) as? [[String: Any]]
        #expect(list?.count == 1)
        #expect(list?.first?["id"] as? String == "demo-site-0001")
        #expect(list?.first?["url"] as? String == GatewayFixture.site)
        #expect(list?.first?["scopes"] as? [String] == ["offline_access", "read:jira-work"])
        #expect(try await fixture.send(.GET, "/oauth/token/accessible-resources").status == 401)

        // Tokens survive a restart.
        try await fixture.restartGateway()
        #expect(try await fixture.sendBearer(.GET, Self.target, token: access).status == 200)
    }

    @Test("code rules: single use (a replay revokes its tokens), client, redirect URI, PKCE; JSON and post bodies")
    func codeRules() async throws {
        let fixture = try await GatewayFixture(.sqlite) { try ThreeLegged.edit($0) }
        var agent = BrowserAgent(fixture)
        let (verifier, challenge) = ThreeLegged.pkce()
        func code(_ query: String) async throws -> String {
            let reply = try await agent.authorize(query)
            return try #require(ThreeLegged.parameters(of: reply.headers["Location"].first)["code"], "\(reply.status)")
        }
        let pkceCode = try await code(ThreeLegged.query(challenge: challenge))
        let wrongVerifier = try await fixture.exchangeCode(pkceCode, verifier: ThreeLegged.pkce().verifier)
        #expect(wrongVerifier.status == 400 && wrongVerifier.json["error"] as? String == "invalid_grant")
        let noVerifier = try await fixture.exchangeCode(pkceCode)
        #expect(noVerifier.json["error"] as? String == "invalid_grant")
        let wrongRedirect = try await fixture.exchangeCode(
            pkceCode, verifier: verifier, redirect: "http://127.0.0.1:8765/other")
        #expect(wrongRedirect.json["error"] as? String == "invalid_grant")
        let wrongSecret = try await fixture.exchangeCode(
            pkceCode, verifier: verifier, client: (ThreeLegged.clientID, "nope"))
        #expect(wrongSecret.status == 401 && wrongSecret.json["error"] as? String == "invalid_client")
        #expect(wrongSecret.headers["WWW-Authenticate"].first == "Basic realm=\"linkgate\"")
        let otherClient = try await fixture.exchangeCode(
            pkceCode, verifier: verifier,
            client: ("automation-2loi-client", GatewayFixture.automationSecret))
        #expect(otherClient.json["error"] as? String == "unauthorized_client")
        // The refusals above did not spend the code.
        let first = try await fixture.exchangeCode(pkceCode, verifier: verifier, json: true)
        #expect(first.status == 200, "\(first.body)")
        let token = try #require(first.json["access_token"] as? String)
        let refresh = try #require(first.json["refresh_token"] as? String)
        #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 200)
        let replay = try await fixture.exchangeCode(pkceCode, verifier: verifier)
        #expect(replay.status == 400 && replay.json["error"] as? String == "invalid_grant")
        #expect((replay.json["error_description"] as? String)?.contains("already been used") == true)
        #expect(
            try await fixture.sendBearer(.GET, Self.target, token: token).status == 401,
            "the replay revokes the code's token")
        #expect(
            try await fixture.refresh(refresh).json["error"] as? String == "invalid_grant", "and its refresh tokens")

        // client_secret_post, no PKCE for a confidential client.
        let plain = try await code(ThreeLegged.query(scope: "read:jira-work"))
        #expect(try await fixture.exchangeCode(plain, post: true).status == 200)
        #expect(try await fixture.exchangeCode("not-a-code").json["error"] as? String == "invalid_grant")

        // A public client: PKCE and its client_id, no secret.
        let (mobileVerifier, mobileChallenge) = ThreeLegged.pkce()
        let mobile = try await code(
            ThreeLegged.query(
                client: ThreeLegged.publicClientID, redirect: ThreeLegged.publicRedirectURI,
                scope: "read:jira-work offline_access", challenge: mobileChallenge))
        let exchanged = try await fixture.post(
            "/oauth2/token",
            fields: [
                ("grant_type", "authorization_code"), ("code", mobile), ("redirect_uri", ThreeLegged.publicRedirectURI),
                ("client_id", ThreeLegged.publicClientID), ("code_verifier", mobileVerifier),
            ])
        #expect(exchanged.status == 200, "\(exchanged.body)")
        // A confidential client cannot skip its secret by posting only client_id.
        let bare = try await fixture.post(
            "/oauth2/token",
            fields: [
                ("grant_type", "authorization_code"), ("code", plain), ("redirect_uri", ThreeLegged.redirectURI),
                ("client_id", ThreeLegged.clientID),
            ])
        #expect(bare.status == 401 && bare.json["error"] as? String == "invalid_client")
    }

    @Test("refresh tokens rotate; reuse after the grace window revokes the family", arguments: StoreKind.available)
    func rotation(kind: StoreKind) async throws {
        // No grace window: any reuse of a rotated token is past it (the window itself: `graceRetry`).
        let fixture = try await GatewayFixture(kind) {
            try ThreeLegged.edit($0, lifetimes: ["refreshTokenReuseGrace": 0])
        }
        let tokens = try await fixture.threeLeggedTokens()
        let first = try #require(tokens["refresh_token"] as? String)
        let rotated = try await fixture.refresh(first)
        #expect(rotated.status == 200, "\(rotated.body)")
        let second = try #require(rotated.json["refresh_token"] as? String)
        #expect(second != first)
        #expect(rotated.json["scope"] as? String == "read:jira-work write:jira-work offline_access")
        let access = try #require(rotated.json["access_token"] as? String)
        #expect(try await fixture.sendBearer(.GET, Self.target, token: access).status == 200)
        // Narrowing on refresh works; widening does not.
        #expect(
            try await fixture.refresh(second, scope: "read:jira-work manage:jira-project").json["error"] as? String
                == "invalid_scope")
        // The app's 2LOi credentials authenticate it, but not as a 3LO client (RFC 6749 §5.2).
        let twoLegged = try await fixture.refresh(
            second, client: ("automation-2loi-client", GatewayFixture.automationSecret))
        #expect(
            twoLegged.status == 400 && twoLegged.json["error"] as? String == "unauthorized_client", "\(twoLegged.body)")
        // Another 3LO client (the public one) cannot use it, and does not spend it.
        let mobile = try await fixture.post(
            "/oauth2/token",
            fields: [
                ("grant_type", "refresh_token"), ("refresh_token", second), ("client_id", ThreeLegged.publicClientID),
            ])
        #expect(mobile.status == 400 && mobile.json["error"] as? String == "invalid_grant", "\(mobile.body)")

        let reused = try await fixture.refresh(first)
        #expect(reused.status == 400 && reused.json["error"] as? String == "invalid_grant", "\(reused.body)")
        // The whole family is gone: the current refresh token and the access tokens.
        #expect(try await fixture.refresh(second).json["error"] as? String == "invalid_grant")
        #expect(try await fixture.sendBearer(.GET, Self.target, token: access).status == 401)
        #expect(
            try await fixture.sendBearer(.GET, Self.target, token: try #require(tokens["access_token"] as? String))
                .status == 401)
    }

    @Test(
        "linkgate revoke --user reaches a grant's 3LO tokens (on SQLite by the tag they carry), after a restart too",
        arguments: StoreKind.available)
    func revokeThreeLegged(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let tokens = try await fixture.threeLeggedTokens()
        let first = try #require(tokens["access_token"] as? String)
        let rotated = try await fixture.refresh(try #require(tokens["refresh_token"] as? String))
        let second = try #require(rotated.json["access_token"] as? String)
        // On SQLite the two tokens of the grant carry one tag and have no rows; PostgreSQL keeps rows.
        func tag(_ token: String) throws -> String? {
            try UnverifiedJWT(decoding: token).claims["grant_tag"]?.stringValue
        }
        if kind == .sqlite {
            let shared = try #require(try tag(first))
            let again = try tag(second)
            #expect(shared.count == 22 && again == shared)
        } else {
            let tags = [try tag(first), try tag(second)]
            #expect(tags == [nil, nil])
        }
        let other = try await fixture.accessToken(user: GatewayFixture.bob)
        for token in [first, second, other] {
            #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 200)
        }
        let store = fixture.store.map { ["--store", $0] } ?? []
        let revoked = try await LinkgateProcess.runAsync(
            ["revoke", "--policies", fixture.folder.path] + store + ["--user", ExampleSite.alice])
        #expect(revoked.status == 0, "\(revoked.standardError)")
        for token in [first, second] {
            #expect(
                try await fixture.eventually(within: 2) {
                    try await fixture.sendBearer(.GET, Self.target, token: token).status == 401
                }, "a 3LO token of the revoked user still passes")
        }
        #expect(try await fixture.sendBearer(.GET, Self.target, token: other).status == 200)
        // The revocation is read back at start.
        try await fixture.restartGateway(signal: SIGTERM)
        for token in [first, second] {
            #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 401)
        }
        #expect(try await fixture.sendBearer(.GET, Self.target, token: other).status == 200)
    }

    /// Expiry (codes, inactivity, the absolute limit) needs time to pass: it is tested in
    /// GrantsTests (`AuthorizationCodeGrantExpiryTests`) on an injected clock.
    @Test("a retry within the grace window is answered")
    func graceRetry() async throws {
        let graceful = try await GatewayFixture(.sqlite)
        let tokens = try await graceful.threeLeggedTokens()
        let first = try #require(tokens["refresh_token"] as? String)
        #expect(try await graceful.refresh(first).status == 200)
        let retry = try await graceful.refresh(first)
        #expect(retry.status == 200, "a client retry within refreshTokenReuseGrace (10 s): \(retry.body)")
        #expect(try await graceful.refresh(try #require(retry.json["refresh_token"] as? String)).status == 200)
    }

    @Test("/account/apps lists the grant; Revoke ends the consent, the refresh tokens and the access tokens")
    func connectedApps() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        let (verifier, challenge) = ThreeLegged.pkce()
        let redirect = try await agent.authorize(ThreeLegged.query(challenge: challenge))
        let code = try #require(ThreeLegged.parameters(of: redirect.headers["Location"].first)["code"])
        let tokens = try await fixture.exchangeCode(code, verifier: verifier).json
        let access = try #require(tokens["access_token"] as? String)
        let page = try await agent.get("/account/apps")
        #expect(page.status == 200)
        AuthorizeEndpointTests.expectPageHeaders(page)
        #expect(page.body.contains("<strong>Automation</strong>"))
        #expect(page.body.contains("<code>write:jira-work</code>"))
        let form = BrowserAgent.hiddenFields(page.body, form: "revoke-com.example.automation")
        let fields = form.isEmpty ? Self.revokeFields(page.body) : form
        let revoked = try await agent.post("/account/apps/revoke", fields: fields)
        #expect(revoked.status == 303)
        #expect(try await fixture.sendBearer(.GET, Self.target, token: access).status == 401, "revoked at once")
        #expect(
            try await fixture.refresh(try #require(tokens["refresh_token"] as? String)).json["error"] as? String
                == "invalid_grant")
        let after = try await agent.get("/account/apps")
        #expect(after.body.contains("No app has access to your account."))
        // Consent is asked again.
        let again = try await agent.get("/authorize?" + ThreeLegged.query())
        #expect(again.status == 200 && again.body.contains("id=\"consent\""))
        // Not signed in: to the login page.
        let anonymous = try await fixture.send(.GET, "/account/apps")
        #expect(anonymous.status == 303 && anonymous.headers["Location"].first?.hasPrefix("/login") == true)
        // Signing out ends the session.
        let signOut = try await agent.post("/logout", fields: Self.revokeFields(after.body).filter { $0.0 == "csrf" })
        #expect(signOut.status == 303)
        #expect(try await agent.get("/account/apps").status == 303)
    }

    /// The csrf and app fields of the first revoke form on the apps page.
    static func revokeFields(_ html: String) -> [(String, String)] {
        let pattern = try! NSRegularExpression(pattern: #"<input type="hidden" name="(csrf|app)" value="([^"]*)">"#)
        var fields: [(String, String)] = []
        for match in pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let name = String(html[Range(match.range(at: 1), in: html)!])
            guard !fields.contains(where: { $0.0 == name }) else { continue }
            fields.append((name, String(html[Range(match.range(at: 2), in: html)!])))
        }
        return fields
    }
}
