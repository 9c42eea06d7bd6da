import Foundation
import JWT
import NIOHTTP1
import Testing

/// docs/gateway.md §4, row by row, through the real binary in front of a real
/// upstream; every refusal is checked never to reach the upstream.
@Suite("linkgate serve: the answers the gateway writes itself (docs/gateway.md §4)", .serialized)
struct GatewayResponseTests {
    @Test("an allowed Connect JWT request is forwarded and the upstream's answer comes back")
    func allowed() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ", headers: [("X-Echo-Status", "203")])
        #expect(reply.status == 203)
        #expect(reply.forwardedTarget == "/rest/api/3/project/PROJ")
        #expect(try await gateway.upstreamCount() == 1)
    }

    @Test("no credential on a route that needs one: 401 with both challenges")
    func noCredential() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.send(.GET, "/rest/api/3/project/PROJ")
        #expect(reply.status == 401)
        #expect(reply.headers["WWW-Authenticate"] == ["Bearer realm=\"linkgate\"", "JWT realm=\"linkgate\""])
        #expect(reply.headers["Content-Type"] == ["application/json"])
        #expect(reply.json["error"] as? String == "unauthorized")
        #expect(reply.json["error_description"] is String)
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("every kind of bad Connect JWT is a 401 invalid_token, and none reaches the upstream")
    func invalidTokens() async throws {
        let gateway = try await GatewayFixture()
        let target = "/rest/api/3/project/PROJ"
        let now = UnixTime.now()
        let cases: [(String, String)] = [
            ("malformed", "not.a.jwt"),
            (
                "bad signature",
                try gateway.connectToken(method: "GET", target: target, secret: Array(repeating: 0x41, count: 48))
            ),
            ("expired", try gateway.connectToken(method: "GET", target: target, issuedAt: now - 600, lifetime: 180)),
            (
                "not yet valid",
                try gateway.connectToken(method: "GET", target: target, issuedAt: now + 600, lifetime: 180)
            ),
            ("lifetime over connectJwtMax", try gateway.connectToken(method: "GET", target: target, lifetime: 7200)),
            ("wrong qsh", try gateway.connectToken(method: "GET", target: "/rest/api/3/project/OTHER")),
            ("unknown app", try gateway.connectToken(issuer: "com.example.unknown", method: "GET", target: target)),
            (
                "context-qsh on a route without contextJwt",
                try gateway.connectToken(method: "GET", target: target, qsh: "context-qsh")
            ),
        ]
        for (name, token) in cases {
            let reply = try await gateway.send(.GET, target, headers: [("Authorization", "JWT \(token)")])
            #expect(reply.status == 401, "\(name)")
            #expect(reply.json["error"] as? String == "invalid_token", "\(name)")
            #expect(
                reply.headers["WWW-Authenticate"].first?.hasPrefix("JWT realm=\"linkgate\", error=\"invalid_token\"")
                    == true,
                "\(name)")
            #expect(!reply.body.contains(token), "\(name): the body must not echo the token")
        }
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("a disabled app and an inactive app user are 401 invalid_token")
    func disabledAppAndInactiveUser() async throws {
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/reports.json")) { $0["enabled"] = false }
            try GatewayFixture.editJSON(folder.appendingPathComponent("users.json")) { users in
                users["users"] = (users["users"] as! [[String: Any]]).map { user in
                    var user = user
                    if user["accountId"] as? String == "app-automation" { user["active"] = false }
                    return user
                }
            }
        }
        let disabled = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ")
        #expect(disabled.status == 401)
        #expect((disabled.json["error_description"] as? String)?.contains("disabled") == true)
        let inactive = try await gateway.sendSigned(
            .GET, "/rest/api/3/project/PROJ", app: "automation.json",
            issuer: GatewayFixture.automationKey)
        #expect(inactive.status == 401)
        #expect((inactive.json["error_description"] as? String)?.contains("inactive") == true)
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test(
        "malformed Bearer and Basic credentials are invalid_token with their challenge; an unknown scheme is a 401 with both challenges"
    )
    func otherSchemes() async throws {
        let gateway = try await GatewayFixture()
        let bearer = try await gateway.send(
            .GET, "/rest/api/3/project/PROJ", headers: [("Authorization", "Bearer abc.def.ghi")])
        #expect(bearer.status == 401)
        #expect(bearer.json["error"] as? String == "invalid_token")
        #expect(
            bearer.headers["WWW-Authenticate"].first?.hasPrefix("Bearer realm=\"linkgate\", error=\"invalid_token\"")
                == true)
        let basic = try await gateway.send(.GET, "/rest/api/3/project/PROJ", headers: [("Authorization", "Basic YTpi")])
        #expect(basic.status == 401)
        #expect(basic.headers["WWW-Authenticate"].first == "Basic realm=\"linkgate\"")
        let digest = try await gateway.send(.GET, "/rest/api/3/project/PROJ", headers: [("Authorization", "Digest x")])
        #expect(digest.status == 401)
        #expect(digest.headers["WWW-Authenticate"].count == 2)
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("scope and permission failures are 403s that name what would pass")
    func forbidden() async throws {
        let gateway = try await GatewayFixture()
        let scope = try await gateway.sendSigned(.DELETE, "/rest/api/3/issue/PROJ-1?projectKey=PROJ")
        #expect(scope.status == 403)
        #expect(scope.json["error"] as? String == "insufficient_scope")
        #expect(scope.json["required_scopes"] as? [String] == ["DELETE", "write:jira-work"])
        #expect(scope.headers["WWW-Authenticate"].isEmpty, "only bearer tokens get a Bearer challenge")
        let permission = try await gateway.sendSigned(.GET, "/rest/api/3/project/SECRET")
        #expect(permission.status == 403)
        #expect(permission.json["error"] as? String == "insufficient_permission")
        #expect(permission.json["permission"] as? String == "BROWSE_PROJECTS")
        #expect(permission.json["resource"] as? String == "project:SECRET")
        let undetermined = try await gateway.sendSigned(.GET, "/rest/api/3/issue/PROJ-1")
        #expect(undetermined.status == 403)
        #expect(undetermined.json["error"] as? String == "insufficient_permission")
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("no route: 404 not_found, never forwarded")
    func notFound() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.sendSigned(.GET, "/no/such/route")
        #expect(reply.status == 404)
        #expect(reply.json["error"] as? String == "not_found")
        let anonymous = try await gateway.send(.POST, "/status")
        #expect(anonymous.status == 404)
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("two credentials, bad encodings, an oversized token or header block: 400 or 431 invalid_request")
    func invalidRequests() async throws {
        let gateway = try await GatewayFixture()
        let target = "/rest/api/3/project/PROJ"
        let token = try gateway.connectToken(method: "GET", target: target)
        let two = try await gateway.send(.GET, "\(target)?jwt=\(token)", headers: [("Authorization", "JWT \(token)")])
        #expect(two.status == 400)
        #expect(two.json["error"] as? String == "invalid_request")
        let twoParameters = try await gateway.send(.GET, "\(target)?jwt=\(token)&jwt=\(token)")
        #expect(twoParameters.status == 400)
        let badQuery = try RawHTTP.get(port: gateway.port, "\(target)?a=%zz")
        #expect(badQuery.status == 400)
        #expect(badQuery.text.contains("\"error\":\"invalid_request\""))
        let badPath = try RawHTTP.get(port: gateway.port, "/rest/api/3/project/%G1")
        #expect(badPath.status == 400)
        for path in ["/static/../rest/api/3/project/SECRET", "/static/%2e%2e/rest/api/3/project/SECRET", "/%73tatus"] {
            let reply = try RawHTTP.get(port: gateway.port, path)
            #expect(reply.status == 400, "\(path)")
            #expect(reply.text.contains("\"error\":\"invalid_request\""), "\(path)")
        }
        let notOriginForm = try RawHTTP.get(port: gateway.port, "*")
        #expect(notOriginForm.status == 400)
        let bigToken = try await gateway.send(
            .GET, target, headers: [("Authorization", "JWT " + String(repeating: "a", count: 9000))])
        #expect(bigToken.status == 400)
        #expect((bigToken.json["error_description"] as? String)?.contains("8192") == true)
        let bigHeaders = try await gateway.send(
            .GET, target, headers: (0..<20).map { ("X-Filler-\($0)", String(repeating: "b", count: 1000)) })
        #expect(bigHeaders.status == 431)
        #expect(bigHeaders.json["error"] as? String == "invalid_request")
        #expect(try await gateway.upstreamCount() == 0)
    }

    @Test("a context token passes only on a contextJwt route; a jwt query parameter works like the header")
    func contextTokensAndQueryParameter() async throws {
        let gateway = try await GatewayFixture()
        let context = try gateway.connectToken(method: "GET", target: "/ignored", qsh: "context-qsh")
        let allowed = try await gateway.send(.GET, "/context/panel", headers: [("Authorization", "JWT \(context)")])
        #expect(allowed.status == 200)
        let target = "/rest/api/3/project/PROJ?b=x%20y&a=1+2"
        let token = try gateway.connectToken(method: "GET", target: target)
        let viaQuery = try await gateway.send(.GET, "/rest/api/3/project/PROJ?b=x%20y&jwt=\(token)&a=1+2")
        #expect(viaQuery.status == 200)
        #expect(
            viaQuery.forwardedTarget == "/rest/api/3/project/PROJ?b=x%20y&a=1+2",
            "the jwt parameter is removed, the rest kept byte for byte")
        #expect(viaQuery.forwardedHeaders["x-linkgate-auth"] == ["jwt"])
    }

    @Test("upstream refused: 502 bad_gateway; upstream too slow: 504 gateway_timeout; both JSON")
    func upstreamFailures() async throws {
        let gateway = try await GatewayFixture()
        let down = try await gateway.send(.GET, "/down/x")
        #expect(down.status == 502)
        #expect(down.json["error"] as? String == "bad_gateway")
        #expect(down.headers["Content-Type"] == ["application/json"])
        let started = Date()
        let slow = try await gateway.send(.GET, "/slow/x", headers: [("X-Echo-Delay-Ms", "3000")])
        #expect(slow.status == 504)
        #expect(slow.json["error"] as? String == "gateway_timeout")
        #expect(Date().timeIntervalSince(started) < 2.5, "the 400 ms request timeout applies")
        let fast = try await gateway.send(.GET, "/slow/x")
        #expect(fast.status == 200)
        #expect(fast.forwardedTarget == "/prefix/slow/x", "the upstream URL's path is put before the request path")
    }
}
