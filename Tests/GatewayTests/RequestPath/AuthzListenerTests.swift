import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The authz listener (docs/forward-auth.md) in-process: the request shapes nginx,
/// Traefik and Envoy send, the same decision as the proxy, only 200, 401 and 403
/// for an outcome, and nothing ever forwarded.
@Suite("The authz listener: forward authorization for nginx, Envoy and Traefik")
struct AuthzListenerTests {
    static let project = "/rest/api/3/project/PROJ?b=x%20y&a=1"

    @Test(
        "allowed in each convention: 200, empty, with the identity headers",
        arguments: [
            ("X-Forwarded-Method", "X-Forwarded-Uri"), ("X-Original-Method", "X-Original-URI"),
        ])
    func allowedByHeaders(methodHeader: String, uriHeader: String) async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: Self.project)
        let response = try await harness.testAuthz { client in
            try await client.send(
                .get, "/auth",
                headers: [
                    (methodHeader, "GET"), (uriHeader, Self.project), ("Authorization", "JWT \(token)"),
                    ("X-Request-Id", "req-1"),
                ])
        }
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
        #expect(response.headers[HTTPField.Name("X-Linkgate-App")!] == RequestPathHarness.reportsKey)
        #expect(response.headers[HTTPField.Name("X-Linkgate-Auth")!] == "jwt")
        #expect(response.headers[HTTPField.Name("X-Linkgate-Scopes")!] == "READ")
        #expect(response.headers[HTTPField.Name("X-Linkgate-Account-Id")!] == "app-reports")
        #expect(response.headers[.xRequestID] == "req-1")
        #expect(harness.upstream.requests.isEmpty, "nothing is forwarded")
        let line = try #require(harness.accessLog.all.last)
        #expect(line.metadata["mode"] == "authz" && line.metadata["method"] == "GET")
        #expect(line.metadata["route"] == "/rest/api/3/project/{projectIdOrKey}")
    }

    @Test("Envoy: the request's own method and target are the original; the qsh binds them")
    func envoyShape() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "DELETE", target: Self.project)
        let response = try await harness.testAuthz { client in
            try await client.send(.delete, Self.project, headers: [("Authorization", "JWT \(token)")])
        }
        #expect(response.status == .forbidden)
        #expect(response.json["error"] as? String == "insufficient_scope")
    }

    @Test("the qsh is checked against the original request: a token for another URI is a 401")
    func qshAgainstOriginal() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: "/rest/api/3/project/OTHER")
        let response = try await harness.testAuthz { client in
            try await client.send(
                .get, "/",
                headers: [
                    ("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", Self.project), ("Authorization", "JWT \(token)"),
                ])
        }
        #expect(response.status == .unauthorized)
        #expect(response.json["error"] as? String == "invalid_token")
        #expect(response.headers[values: .wwwAuthenticate].first?.hasPrefix("JWT realm=\"linkgate\"") == true)
    }

    @Test("a jwt parameter in the original query works like the header")
    func jwtInOriginalQuery() async throws {
        let harness = try await RequestPathHarness()
        let token = try harness.connectToken(method: "GET", target: Self.project)
        let response = try await harness.testAuthz { client in
            try await client.send(
                .get, "/", headers: [("X-Original-Method", "GET"), ("X-Original-URI", Self.project + "&jwt=\(token)")])
        }
        #expect(response.status == .ok)
        #expect(response.headers[HTTPField.Name("X-Linkgate-Auth")!] == "jwt")
    }

    @Test("no credential: 401 with both challenges; no route or a bad target: 403, never 404 or 400")
    func onlyUnauthorizedOrForbidden() async throws {
        let harness = try await RequestPathHarness()
        let (anonymous, unrouted, badTarget, endpoint) = try await harness.testAuthz { client in
            let original = { (uri: String) in [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", uri)] }
            return (
                try await client.send(.get, "/", headers: original("/rest/api/3/project/PROJ")),
                try await client.send(.get, "/", headers: original("/nowhere")),
                try await client.send(.get, "/", headers: original("/rest/api/3/project/%zz")),
                try await client.send(.get, "/", headers: original("/.well-known/jwks.json"))
            )
        }
        #expect(anonymous.status == .unauthorized)
        #expect(
            anonymous.headers[values: .wwwAuthenticate] == ["Bearer realm=\"linkgate\"", "JWT realm=\"linkgate\""])
        #expect(unrouted.status == .forbidden)
        #expect(unrouted.json["error"] as? String == "not_found")
        #expect(badTarget.status == .forbidden)
        #expect(badTarget.json["error"] as? String == "invalid_request")
        #expect(endpoint.status == .forbidden, "the gateway's own endpoints are not served here")
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test(
        "a half-sent or repeated convention is a 400: the gateway does not guess",
        arguments: [
            [("X-Forwarded-Method", "GET")],
            [("X-Original-URI", "/rest/api/3/project/PROJ")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/a"), ("X-Forwarded-Uri", "/b")],
        ])
    func missingOriginal(headers: [(String, String)]) async throws {
        let harness = try await RequestPathHarness()
        let response = try await harness.testAuthz { client in try await client.send(.get, "/", headers: headers) }
        #expect(response.status == .badRequest)
        #expect(response.json["error"] as? String == "invalid_request")
    }

    @Test("authzPathPrefix is removed on a segment boundary only")
    func pathPrefix() throws {
        #expect(try OriginalRequest.removing("/authz", from: "/authz/rest/x?a=1") == "/rest/x?a=1")
        #expect(try OriginalRequest.removing("/authz", from: "/authz?a=1") == "/?a=1")
        #expect(try OriginalRequest.removing("/authz", from: "/authz") == "/")
        #expect(try OriginalRequest.removing(nil, from: "/authzx") == "/authzx")
        #expect(throws: GatewayError.self) { try OriginalRequest.removing("/authz", from: "/authzx/rest") }
        #expect(throws: GatewayError.self) { try OriginalRequest.removing("/authz", from: "/rest") }
    }
}
