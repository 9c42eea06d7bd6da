import Foundation
import JWT
import Testing

/// The JWT bearer grant (2LOi) end to end through the real binary, on each store.
@Suite("JWT bearer grant: /oauth2/token through the real gateway")
struct JWTBearerGrantEndToEndTests {
    @Test("an assertion becomes a Bearer token that proxies as the user", arguments: StoreKind.available)
    func exchangeAndProxy(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let reply = try await fixture.exchange(try fixture.assertion())
        #expect(reply.status == 200, "\(reply.body)")
        #expect(reply.headers["Cache-Control"].first == "no-store")
        #expect(reply.headers["Content-Type"].first == "application/json")
        #expect(reply.json["token_type"] as? String == "Bearer")
        #expect(reply.json["expires_in"] as? Int == 900)
        #expect(reply.json["scope"] as? String == "READ WRITE DELETE")
        let token = try #require(reply.json["access_token"] as? String)
        let header = try UnverifiedJWT(decoding: token).header
        #expect(header["typ"]?.stringValue == "at+jwt" && header["alg"]?.stringValue == "ES256")
        #expect(header["kid"]?.stringValue?.isEmpty == false)

        let proxied = try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token)
        #expect(proxied.status == 200, "\(proxied.body)")
        #expect(proxied.forwardedHeaders["x-linkgate-account-id"] == [ExampleSite.alice])
        #expect(proxied.forwardedHeaders["x-linkgate-app"] == [GatewayFixture.automationKey])
        #expect(proxied.forwardedHeaders["x-linkgate-auth"] == ["jwt-bearer"])
        #expect(proxied.forwardedHeaders["x-linkgate-scopes"] == ["DELETE READ WRITE"])
        #expect(proxied.forwardedHeaders["authorization"] == nil)
        // The user's permissions apply: bob may not browse SECRET, alice may.
        let bob = try await fixture.accessToken(user: GatewayFixture.bob)
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/SECRET", token: bob).status == 403)
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/SECRET", token: token).status == 200)
    }

    @Test("JSON bodies and the /oauth/token path work too")
    func jsonAndAtlassianPath() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let reply = try await fixture.exchange(try fixture.assertion(), json: true, path: "/oauth/token")
        #expect(reply.status == 200, "\(reply.body)")
        #expect(reply.json["access_token"] is String)
    }

    @Test("an assertion is accepted once; two racing requests get exactly one token", arguments: StoreKind.available)
    func replay(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let assertion = try fixture.assertion()
        #expect(try await fixture.exchange(assertion).status == 200)
        let again = try await fixture.exchange(assertion)
        #expect(again.status == 400)
        #expect(again.json["error"] as? String == "invalid_grant")
        #expect((again.json["error_description"] as? String)?.contains("already been used") == true)

        // Without a jti the assertion's hash is the replay key.
        let racing = try fixture.assertion { $0["jti"] = nil }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 { group.addTask { try await fixture.exchange(racing).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == 400 }.count == 15, "\(statuses)")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let error: String
        let status: Int
        let make: @Sendable (GatewayFixture) throws -> [(String, String)]
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "no grant_type", error: "invalid_request", status: 400) { _ in [("assertion", "x")] },
        Refusal(name: "unknown grant_type", error: "unsupported_grant_type", status: 400) { _ in
            [("grant_type", "password")]
        },
        Refusal(name: "no assertion", error: "invalid_request", status: 400) { _ in
            [("grant_type", GatewayFixture.jwtBearer)]
        },
        Refusal(name: "not a JWT", error: "invalid_grant", status: 400) { _ in
            [("grant_type", GatewayFixture.jwtBearer), ("assertion", "not-a-jwt")]
        },
        Refusal(name: "bad signature", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion(secret: Array("an-entirely-different-secret-of-40-bytes!".utf8)))
        },
        Refusal(name: "unknown client id", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion(clientID: "nobody"))
        },
        Refusal(name: "wrong tnt", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion { $0["tnt"] = "https://other.example.com" })
        },
        Refusal(name: "wrong aud", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion { $0["aud"] = "https://auth.atlassian.com" })
        },
        Refusal(name: "lifetime over assertionMax", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion(lifetime: 120))
        },
        Refusal(name: "expired", error: "invalid_grant", status: 400) { f in
            bearer(
                try f.assertion {
                    $0["iat"] = .integer(UnixTime.now() - 200)
                    $0["exp"] = .integer(UnixTime.now() - 150)
                })
        },
        Refusal(name: "no exp", error: "invalid_grant", status: 400) { f in bearer(try f.assertion { $0["exp"] = nil })
        },
        Refusal(name: "sub without the prefix", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion { $0["sub"] = .string(ExampleSite.alice) })
        },
        Refusal(name: "unknown user", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion(user: "no-such-user"))
        },
        Refusal(name: "inactive user", error: "invalid_grant", status: 400) { f in
            bearer(try f.assertion(user: GatewayFixture.carol))
        },
        Refusal(name: "app without ACT_AS_USER", error: "unauthorized_client", status: 400) { f in
            bearer(try f.assertion(app: "reports.json", clientID: "reports-2loi-client"))
        },
        Refusal(name: "scope beyond the app's", error: "invalid_scope", status: 400) { f in
            bearer(try f.assertion()) + [("scope", "READ ADMIN")]
        },
    ]

    static func bearer(_ assertion: String) -> [(String, String)] {
        [("grant_type", GatewayFixture.jwtBearer), ("assertion", assertion)]
    }

    @Test("each bad request gets its RFC 6749 error, no-store, and no token", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let reply = try await fixture.post("/oauth2/token", fields: try refusal.make(fixture))
        #expect(reply.status == refusal.status, "\(reply.body)")
        #expect(reply.json["error"] as? String == refusal.error, "\(reply.body)")
        #expect((reply.json["error_description"] as? String)?.isEmpty == false)
        #expect(reply.json["access_token"] == nil)
        #expect(reply.headers["Cache-Control"].first == "no-store")
    }

    @Test("a disabled app is refused, GET and other content types are refused")
    func otherRefusals() async throws {
        let fixture = try await GatewayFixture(.sqlite) { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/automation.json")) { $0["enabled"] = false }
        }
        let disabled = try await fixture.exchange(try fixture.assertion())
        #expect(
            disabled.status == 400 && disabled.json["error"] as? String == "unauthorized_client", "\(disabled.body)")
        let get = try await fixture.send(.GET, "/oauth2/token")
        #expect(get.status == 405 && get.headers["Allow"].first == "POST")
        let text = try await fixture.send(.POST, "/oauth2/token", headers: [("Content-Type", "text/plain")], body: "x")
        #expect(text.status == 400 && text.json["error"] as? String == "invalid_request")
    }

    @Test("scope narrows the token; the proxy then refuses what it lacks with a Bearer challenge")
    func narrowedScope() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let reply = try await fixture.exchange(try fixture.assertion(), scope: "read")
        #expect(reply.json["scope"] as? String == "READ", "\(reply.body)")
        let token = try #require(reply.json["access_token"] as? String)
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token).status == 200)
        let refused = try await fixture.sendBearer(.PUT, "/rest/api/3/issue/PROJ-1?projectKey=PROJ", token: token)
        #expect(refused.status == 403)
        #expect(refused.json["error"] as? String == "insufficient_scope")
        #expect(
            refused.headers["WWW-Authenticate"].first?.hasPrefix(
                "Bearer realm=\"linkgate\", error=\"insufficient_scope\"") == true)
    }
}
