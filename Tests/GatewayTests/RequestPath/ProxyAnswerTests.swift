import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWT
import Testing

@testable import Gateway

/// The answer table of docs/gateway.md §4 and the headers of §5, row by row,
/// through the composed request path in-process; every refusal is checked never
/// to reach the upstream.
@Suite("The request path in-process: answers the gateway writes itself, and what it forwards")
struct ProxyAnswerTests {
    static let project = "/rest/api/3/project/PROJ"

    @Test("an allowed Connect JWT request is forwarded with exactly its path and query, and the answer comes back")
    func allowed() async throws {
        let harness = try await RequestPathHarness()
        let target = Self.project + "?b=x%20y&a=1+2&c=%7C%22"
        let token = try harness.connectToken(method: "GET", target: target)
        try await harness.test { client in
            let response = try await client.send(.get, target, headers: [("Authorization", "JWT \(token)")])
            #expect(response.status == .ok)
            #expect(response.text == "upstream says hi")
            #expect(response.headers[.xRequestID]?.count == 32)
        }
        let forwarded = try #require(harness.upstream.requests.first)
        #expect(forwarded.target == target)
        #expect(forwarded.upstream == "jira")
        #expect(forwarded.headers["X-Linkgate-App"] == [RequestPathHarness.reportsKey])
        #expect(forwarded.headers["X-Linkgate-Auth"] == ["jwt"])
        #expect(forwarded.headers["X-Linkgate-Scopes"] == ["READ"])
        #expect(forwarded.headers["Authorization"].isEmpty, "the credential is not forwarded")
    }

    @Test("a jwt query parameter is removed and every other parameter kept byte for byte")
    func jwtParameter() async throws {
        let harness = try await RequestPathHarness()
        let signed = Self.project + "?b=x%20y&a=1+2"
        let token = try harness.connectToken(method: "GET", target: signed)
        try await harness.test { client in
            let response = try await client.send(.get, Self.project + "?b=x%20y&jwt=\(token)&a=1+2")
            #expect(response.status == .ok)
        }
        #expect(harness.upstream.requests.map(\.target) == [signed])
    }

    @Test("spoofed identity and hop-by-hop headers are dropped; identity and X-Forwarded-* are the gateway's")
    func spoofedHeaders() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: Self.project)
        try await harness.test { client in
            let response = try await client.send(
                .get, Self.project,
                headers: [
                    ("Authorization", "JWT \(token)"), ("X-Linkgate-Account-Id", "admin"), ("x-linkgate-app", "evil"),
                    ("X-LINKGATE-AUTH", "basic"), ("X_Linkgate_Scopes", "ADMIN"), ("X-LinkGate-Anything", "x"),
                    ("Connection", "X-Custom"), ("X-Custom", "hop"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
                    ("Proxy-Authorization", "Basic eDp5"), ("X-Forwarded-For", "203.0.113.9"),
                    ("X-Request-Id", "req-1"),
                ])
            #expect(response.status == .ok)
            #expect(response.headers[.xRequestID] == "req-1")
        }
        let headers = try #require(harness.upstream.requests.first).headers
        #expect(headers["X-Linkgate-Account-Id"] == ["app-reports"])
        #expect(headers["X-Linkgate-App"] == [RequestPathHarness.reportsKey])
        #expect(headers["X-Linkgate-Auth"] == ["jwt"])
        #expect(headers["X-Linkgate-Scopes"] == ["READ"])
        #expect(headers["X_Linkgate_Scopes"].isEmpty && headers["X-LinkGate-Anything"].isEmpty)
        for hop in ["Connection", "X-Custom", "Keep-Alive", "TE", "Proxy-Authorization"] {
            #expect(headers[hop].isEmpty, "\(hop)")
        }
        #expect(headers["X-Forwarded-For"].first?.hasPrefix("203.0.113.9") == true)
        #expect(headers["X-Request-Id"] == ["req-1"])
    }

    @Test("no credential on a route that needs one: 401 unauthorized with both challenges")
    func noCredential() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let response = try await client.send(.get, Self.project)
            #expect(response.status == .unauthorized)
            #expect(
                response.headers[values: .wwwAuthenticate] == [#"Bearer realm="linkgate""#, #"JWT realm="linkgate""#])
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["error"] as? String == "unauthorized")
        }
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("a public route forwards anyone, as anonymous")
    func anonymous() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let response = try await client.send(.get, "/status")
            #expect(response.status == .ok)
        }
        #expect(harness.upstream.requests.first?.headers["X-Linkgate-Auth"] == ["anonymous"])
    }

    @Test("every kind of bad Connect JWT is 401 invalid_token with the JWT challenge and its reason in the log")
    func invalidTokens() async throws {
        let harness = try await RequestPathHarness()
        let now = UnixTime.now()
        let cases: [(String, String)] = [
            ("invalid_base64url", "not.a.jwt"),
            ("expired", try harness.connectToken(method: "GET", target: Self.project, issuedAt: now - 600)),
            ("qsh_mismatch", try harness.connectToken(method: "GET", target: "/rest/api/3/project/OTHER")),
            (
                "unknown_issuer",
                try harness.connectToken(issuer: "com.example.unknown", method: "GET", target: Self.project)
            ),
            ("context_qsh_not_allowed", try harness.connectToken(method: "GET", target: "/", qsh: "context-qsh")),
        ]
        try await harness.test { client in
            for (reason, token) in cases {
                let response = try await client.send(.get, Self.project, headers: [("Authorization", "JWT \(token)")])
                #expect(response.status == .unauthorized, "\(reason)")
                #expect(response.json["error"] as? String == "invalid_token", "\(reason)")
                #expect(
                    response.headers[.wwwAuthenticate]?.hasPrefix(#"JWT realm="linkgate", error="invalid_token""#)
                        == true,
                    "\(reason)")
                #expect(!response.text.contains(token), "\(reason): the body never echoes the token")
            }
        }
        #expect(harness.upstream.requests.isEmpty)
        let reasons = harness.accessLog.all.compactMap { $0.metadata["reason"] }
        #expect(reasons == cases.map(\.0))
        for line in harness.accessLog.all {
            for (_, token) in cases { #expect(!line.metadata.values.contains { $0.contains(token) }) }
        }
    }

    @Test("a context token passes on a contextJwt route")
    func contextRoute() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: "/", qsh: "context-qsh")
        try await harness.test { client in
            let response = try await client.send(
                .get, "/rest/atlassian-connect/1/addons/com.example.reports/properties/p",
                headers: [("Authorization", "JWT \(token)")])
            #expect(response.status == .ok)
        }
    }

    @Test("403: insufficient_scope names the scopes; insufficient_permission names the permission and resource")
    func forbidden() async throws {
        let harness = try await RequestPathHarness()
        let scopeToken = try harness.connectToken(method: "PUT", target: Self.project)
        let permissionTarget = "/rest/api/3/project/SECRET"
        let permissionToken = try harness.connectToken(method: "GET", target: permissionTarget)
        try await harness.test { client in
            let scope = try await client.send(.put, Self.project, headers: [("Authorization", "JWT \(scopeToken)")])
            #expect(scope.status == .forbidden)
            #expect(scope.json["error"] as? String == "insufficient_scope")
            #expect(scope.json["required_scopes"] as? [String] == ["PROJECT_ADMIN", "manage:jira-project"])
            let permission = try await client.send(
                .get, permissionTarget, headers: [("Authorization", "JWT \(permissionToken)")])
            #expect(permission.status == .forbidden)
            #expect(permission.json["error"] as? String == "insufficient_permission")
            #expect(permission.json["permission"] as? String == "BROWSE_PROJECTS")
            #expect(permission.json["resource"] as? String == "project:SECRET")
        }
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("404 not_found where no route matches")
    func noRoute() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: "/nowhere")
        try await harness.test { client in
            let response = try await client.send(.get, "/nowhere", headers: [("Authorization", "JWT \(token)")])
            #expect(response.status == .notFound)
            #expect(response.json["error"] as? String == "not_found")
        }
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test(
        "400 invalid_request for what is malformed, 431 for a large head",
        arguments: [
            ("/rest/api/3/project/PROJ?a=%zz", [(String, String)](), 400, "bad_query_encoding"),
            ("/rest/api/3/a/../project/PROJ", [], 400, "path_not_normalized"),
            ("/rest/api/3/project/PROJ?jwt=a.b.c&jwt=d.e.f", [], 400, "two_credentials"),
            (
                "/rest/api/3/project/PROJ", [("Authorization", "JWT " + String(repeating: "a", count: 9000))], 400,
                "token_too_large"
            ),
            (
                "/rest/api/3/project/PROJ", (0..<20).map { ("X-Filler-\($0)", String(repeating: "b", count: 1000)) },
                431,
                "headers_too_large"
            ),
        ])
    func malformed(target: String, headers: [(String, String)], status: Int, reason: String) async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let response = try await client.send(.get, target, headers: headers)
            #expect(response.status.code == status)
            #expect(response.json["error"] as? String == "invalid_request")
        }
        #expect(harness.accessLog.all.last?.metadata["reason"] == reason)
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("502 bad_gateway and 504 gateway_timeout when the upstream fails, as JSON")
    func upstreamFailures() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: Self.project)
        try await harness.test { client in
            harness.upstream.answer { forwarded throws(GatewayError) in throw .upstreamUnreachable(forwarded.upstream) }
            let down = try await client.send(.get, Self.project, headers: [("Authorization", "JWT \(token)")])
            #expect(down.status == .badGateway)
            #expect(down.json["error"] as? String == "bad_gateway")
            harness.upstream.answer { forwarded throws(GatewayError) in
                throw .upstreamTimeout(forwarded.upstream, milliseconds: 400)
            }
            let slow = try await client.send(.get, Self.project, headers: [("Authorization", "JWT \(token)")])
            #expect(slow.status == .gatewayTimeout)
            #expect(slow.json["error"] as? String == "gateway_timeout")
        }
        #expect(harness.accessLog.all.map { $0.metadata["reason"] } == ["upstream_unreachable", "upstream_timeout"])
    }

    @Test("the access log has one line per request with the decided facts, never the token")
    func accessLog() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: Self.project)
        try await harness.test { client in
            _ = try await client.send(.get, Self.project, headers: [("Authorization", "JWT \(token)")])
        }
        let line = try #require(harness.accessLog.all.first)
        #expect(harness.accessLog.all.count == 1)
        #expect(line.metadata["route"] == "/rest/api/3/project/{projectIdOrKey}")
        #expect(line.metadata["app"] == RequestPathHarness.reportsKey)
        #expect(line.metadata["user"] == "app-reports")
        #expect(line.metadata["verdict"] == "allow")
        #expect(line.metadata["status"] == "200")
        #expect(!line.metadata.values.contains { $0.contains(token) })
    }
}

@Suite("The request path in-process: Basic throttling, oversized signed forms, the store down")
struct ProxyLimitTests {
    static let project = "/rest/api/3/project/PROJ"

    @Test("five wrong API tokens for one login, then 429 with Retry-After and the Basic challenge")
    func throttled() async throws {
        let harness = try await RequestPathHarness()
        let basic = "Basic " + Data("alice:not-a-token".utf8).base64EncodedString()
        try await harness.test { client in
            for _ in 0..<5 {
                let response = try await client.send(.get, Self.project, headers: [("Authorization", basic)])
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == #"Basic realm="linkgate""#)
            }
            let throttled = try await client.send(.get, Self.project, headers: [("Authorization", basic)])
            #expect(throttled.status == .tooManyRequests)
            // The first delay is 5 s from the fifth failure; a slow machine may have
            // crossed a second since (exact values: LoginThrottleTests, on a given clock).
            let wait = try #require(throttled.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...5).contains(wait))
            #expect(throttled.json["error"] as? String == "too_many_requests")
        }
        #expect(harness.accessLog.all.last?.metadata["reason"] == "basic_throttled")
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("an OAuth 1.0a signed form body over 1 MiB is a 413, before any signature work")
    func oversizedSignedForm() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let response = try await client.send(
                .post, Self.project,
                headers: [
                    ("Authorization", #"OAuth oauth_consumer_key="x", oauth_signature_method="RSA-SHA1""#),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ], body: "a=" + String(repeating: "b", count: 1 << 20))
            #expect(response.status.code == 413)
            #expect(response.json["error"] as? String == "invalid_request")
        }
        #expect(harness.accessLog.all.last?.metadata["reason"] == "form_too_large")
    }

    @Test("the store not answering a Basic check is a 503 temporarily_unavailable")
    func storeDown() async throws {
        let harness = try await RequestPathHarness()
        await harness.store.close()
        let basic = "Basic " + Data("alice:some-token".utf8).base64EncodedString()
        try await harness.test { client in
            let response = try await client.send(.get, Self.project, headers: [("Authorization", basic)])
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["error"] as? String == "temporarily_unavailable")
        }
        #expect(harness.accessLog.all.last?.metadata["reason"] == "store_unavailable")
    }
}
