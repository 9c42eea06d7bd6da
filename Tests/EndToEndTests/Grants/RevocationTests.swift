import Foundation
import JWT
import Testing

/// Revocation (RFC 7009 and `linkgate revoke`), introspection (RFC 7662) and
/// the live policy applied to Bearer tokens.
@Suite("Bearer tokens: revocation, introspection, the live policy")
struct RevocationEndToEndTests {
    static let client = GatewayFixture.basic("automation-2loi-client", GatewayFixture.automationSecret)
    static let target = "/rest/api/3/project/PROJ"

    @Test("POST /oauth2/revoke refuses the token at once; introspection follows", arguments: StoreKind.available)
    func revokeEndpoint(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let token = try await fixture.accessToken()
        let active = try await fixture.post("/oauth2/introspect", fields: [("token", token)], headers: [Self.client])
        #expect(active.status == 200, "\(active.body)")
        #expect(active.json["active"] as? Bool == true)
        #expect(active.json["sub"] as? String == ExampleSite.alice)
        #expect(active.json["client_id"] as? String == "automation-2loi-client")
        #expect(active.json["scope"] as? String == "DELETE READ WRITE")
        #expect(active.json["username"] as? String == "alice")

        let revoked = try await fixture.post("/oauth2/revoke", fields: [("token", token)], headers: [Self.client])
        #expect(revoked.status == 200, "\(revoked.body)")
        #expect(revoked.headers["Cache-Control"].first == "no-store")
        let refused = try await fixture.sendBearer(.GET, Self.target, token: token)
        #expect(refused.status == 401)
        #expect(refused.json["error"] as? String == "invalid_token")
        #expect(
            refused.headers["WWW-Authenticate"].first?.hasPrefix("Bearer realm=\"linkgate\", error=\"invalid_token\"")
                == true)
        let inactive = try await fixture.post("/oauth2/introspect", fields: [("token", token)], headers: [Self.client])
        #expect(inactive.json["active"] as? Bool == false)
        #expect(inactive.json.count == 1)

        // Revoked stays revoked after a restart (the store is read at start).
        try await fixture.restartGateway(signal: SIGTERM)
        #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 401)
    }

    @Test("revoke and introspect need the client's own credentials")
    func clientAuthentication() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()
        let none = try await fixture.post("/oauth2/revoke", fields: [("token", token)])
        #expect(none.status == 401 && none.json["error"] as? String == "invalid_client")
        #expect(none.headers["WWW-Authenticate"].first == "Basic realm=\"linkgate\"")
        let wrong = try await fixture.post(
            "/oauth2/introspect", fields: [("token", token)],
            headers: [GatewayFixture.basic("automation-2loi-client", "not-the-secret")])
        #expect(wrong.status == 401 && wrong.json["error"] as? String == "invalid_client")
        // client_secret_post works as well as Basic.
        let posted = try await fixture.post(
            "/oauth2/introspect",
            fields: [
                ("token", token), ("client_id", "automation-2loi-client"),
                ("client_secret", GatewayFixture.automationSecret),
            ])
        #expect(posted.json["active"] as? Bool == true, "\(posted.body)")
        // Another app learns nothing about the token and cannot revoke it.
        let other = GatewayFixture.basic("reports-2loi-client", "demo-only-reports-shared-secret-0123456789abcdef")
        let foreign = try await fixture.post("/oauth2/introspect", fields: [("token", token)], headers: [other])
        #expect(foreign.json["active"] as? Bool == false)
        let stolen = try await fixture.post("/oauth2/revoke", fields: [("token", token)], headers: [other])
        #expect(stolen.status == 400 && stolen.json["error"] as? String == "unauthorized_client")
        #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 200)
        // An unknown token is a 200 (RFC 7009 §2.2).
        let unknown = try await fixture.post("/oauth2/revoke", fields: [("token", "nonsense")], headers: [Self.client])
        #expect(unknown.status == 200)
    }

    @Test(
        "linkgate revoke --token, --user and --app reach the running gateway within 2 s", arguments: StoreKind.available
    )
    func commandLine(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let store = fixture.store.map { ["--store", $0] } ?? []
        func revoke(_ arguments: [String]) async throws -> LinkgateProcess.Result {
            try await LinkgateProcess.runAsync(["revoke", "--policies", fixture.folder.path] + store + arguments)
        }
        func isRefused(_ token: String) async throws -> Bool {
            try await fixture.eventually(within: 2) {
                try await fixture.sendBearer(.GET, Self.target, token: token).status == 401
            }
        }
        let one = try await fixture.accessToken()
        let other = try await fixture.accessToken()
        let byToken = try await revoke(["--token", one])
        #expect(byToken.status == 0, "\(byToken.standardError)")
        #expect(byToken.standardOutput.hasPrefix("revoked the token "))
        #expect(try await isRefused(one))
        #expect(try await fixture.sendBearer(.GET, Self.target, token: other).status == 200)

        let bob = try await fixture.accessToken(user: GatewayFixture.bob)
        let byUser = try await revoke(["--user", ExampleSite.alice])
        #expect(byUser.standardOutput == "revoked 1 token acting as \(ExampleSite.alice)\n", "\(byUser.standardOutput)")
        #expect(try await isRefused(other))
        #expect(try await fixture.sendBearer(.GET, Self.target, token: bob).status == 200)

        let byApp = try await revoke(["--app", GatewayFixture.automationKey])
        #expect(byApp.standardOutput.hasPrefix("revoked 1 token"), "\(byApp.standardOutput)")
        #expect(try await isRefused(bob))
        // A token issued afterwards works: revocation is of tokens, not a ban.
        let fresh = try await fixture.accessToken()
        #expect(try await fixture.sendBearer(.GET, Self.target, token: fresh).status == 200)

        let bad = try await revoke(["--token", "not-a-token"])
        #expect(bad.status == 1 && bad.standardError.contains("not an access token of this gateway"))
        #expect(try await revoke(["--app", "x", "--user", "y"]).status == 2)
    }

    @Test("a disabled app, an inactive user or a narrowed app cuts live tokens off")
    func livePolicy() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()
        #expect(
            try await fixture.sendBearer(.DELETE, "/rest/api/3/issue/PROJ-1?projectKey=PROJ", token: token).status
                == 200)
        // The app keeps READ and WRITE only: the token's DELETE is gone, its READ stays.
        try GatewayFixture.editJSON(fixture.folder.appendingPathComponent("apps/automation.json")) {
            $0["scopes"] = ["READ", "WRITE", "ACT_AS_USER"]
        }
        #expect(
            try await fixture.eventually(within: 3) {
                try await fixture.sendBearer(.DELETE, "/rest/api/3/issue/PROJ-1?projectKey=PROJ", token: token).status
                    == 403
            })
        #expect(try await fixture.sendBearer(.GET, Self.target, token: token).status == 200)
        try fixture.setApp("automation.json", enabled: false)
        #expect(
            try await fixture.eventually(within: 3) {
                try await fixture.sendBearer(.GET, Self.target, token: token).status == 401
            })
        try fixture.setApp("automation.json", enabled: true)
        let reenabled = try await fixture.eventually(within: 3) {
            try await fixture.sendBearer(.GET, Self.target, token: token).status == 200
        }
        #expect(reenabled)
        try GatewayFixture.editJSON(fixture.folder.appendingPathComponent("users.json")) { users in
            var list = users["users"] as! [[String: Any]]
            for index in list.indices where list[index]["accountId"] as? String == ExampleSite.alice {
                list[index]["active"] = false
            }
            users["users"] = list
        }
        #expect(
            try await fixture.eventually(within: 3) {
                let reply = try await fixture.sendBearer(.GET, Self.target, token: token)
                return reply.status == 401 && reply.json["error"] as? String == "invalid_token"
            })
    }

    @Test("tampered, foreign, expired-looking and wrong-typed Bearer tokens are 401 invalid_token")
    func badTokens() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Array(#"{"sub":"5b10ac8d82e05b22cc7d4ef5","scope":"ADMIN"}"#.utf8))
        let foreignKey = try JWTKey.generate(
            .es256, keyID: try UnverifiedJWT(decoding: token).header["kid"]?.stringValue)
        var claims = JSONObject()
        claims["iss"] = .string(GatewayFixture.site)
        claims["aud"] = .string(GatewayFixture.site)
        claims["sub"] = .string(ExampleSite.alice)
        claims["iat"] = .integer(UnixTime.now())
        claims["exp"] = .integer(UnixTime.now() + 600)
        let foreign = try JWTSigner(key: foreignKey).sign(claims, type: "at+jwt")
        let connect = try fixture.connectToken(method: "GET", target: Self.target)
        for bad in [parts.joined(separator: "."), foreign, connect, "abc"] {
            let reply = try await fixture.sendBearer(.GET, Self.target, token: bad)
            #expect(reply.status == 401, "\(reply.body)")
            #expect(reply.json["error"] as? String == "invalid_token")
            #expect(!reply.body.contains(bad))
        }
        #expect(try await fixture.upstreamCount() == 0)
    }
}
