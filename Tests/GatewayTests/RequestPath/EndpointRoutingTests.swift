import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The gateway's own endpoints as routes in front of the proxy (docs/gateway.md §6),
/// in-process: exact paths only, 405 with `Allow`, OAuth errors as JSON, and a
/// Bearer token from the JWT bearer grant used on the proxy.
@Suite("The request path in-process: the gateway's own endpoints")
struct EndpointRoutingTests {
    @Test("the discovery documents answer GET and HEAD; other methods are a JSON 405 with Allow")
    func discovery() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let jwks = try await client.send(.get, "/.well-known/jwks.json")
            #expect(jwks.status == .ok)
            #expect((jwks.json["keys"] as? [Any])?.count == 1)
            let metadata = try await client.send(.get, "/.well-known/oauth-authorization-server")
            #expect(metadata.json["issuer"] as? String == harness.policy.document.gateway.baseUrl)
            let post = try await client.send(.post, "/.well-known/jwks.json")
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow] == "GET, HEAD")
            #expect(post.json["error"] as? String == "invalid_request")
        }
        #expect(harness.upstream.requests.isEmpty)
        #expect(
            harness.accessLog.all.map { $0.metadata["route"] } == [
                "/.well-known/jwks.json", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json",
            ])
    }

    @Test(
        "a method no endpoint registers (TRACE, an extension method) on an endpoint's path is a 405, never proxied",
        arguments: [
            ("TRACE", "/oauth2/token", "POST"), ("PROPFIND", "/.well-known/jwks.json", "GET, HEAD"),
            ("TRACE", "/connect-install-keys/abc", "GET, HEAD"), ("TRACE", "/login", "GET, POST"),
        ])
    func unregisteredMethod(method: String, path: String, allow: String) async throws {
        let harness = try await RequestPathHarness()
        let response = try await harness.test { client in
            try await client.send(HTTPRequest.Method(method)!, path)
        }
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == allow)
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("only the exact path is an endpoint: another spelling goes to the proxy and its routes")
    func exactPaths() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            for target in ["/oauth2//token", "/oauth2/token/", "/OAUTH2/token"] {
                let response = try await client.send(.post, target)
                #expect(response.status == .notFound, "\(target): the proxy's routes know no such path")
            }
            let encoded = try await client.send(.post, "/oauth2/%74oken")
            #expect(encoded.status == .badRequest, "an unreserved character written as %XX does not normalise")
        }
        #expect(
            harness.accessLog.all.map { $0.metadata["reason"] } == [
                "no_route", "no_route", "no_route", "path_not_normalized",
            ])
        #expect(harness.upstream.requests.isEmpty)
    }

    @Test("the token endpoint: a GET is 405, a missing grant_type is 400 invalid_request, an unknown one is 400")
    func tokenErrors() async throws {
        let harness = try await RequestPathHarness()
        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        try await harness.test { client in
            let get = try await client.send(.get, "/oauth2/token")
            #expect(get.status == .methodNotAllowed)
            #expect(get.headers[.allow] == "POST")
            let missing = try await client.send(.post, "/oauth2/token", headers: form, body: "")
            #expect(missing.status == .badRequest)
            #expect(missing.json["error"] as? String == "invalid_request")
            #expect(missing.headers[.cacheControl] == "no-store")
            let unknown = try await client.send(.post, "/oauth/token", headers: form, body: "grant_type=password")
            #expect(unknown.json["error"] as? String == "unsupported_grant_type")
            let badClient = try await client.send(
                .post, "/oauth2/introspect", headers: form + [("Authorization", "Basic eDp5")], body: "token=abc")
            #expect(badClient.status == .unauthorized)
            #expect(badClient.json["error"] as? String == "invalid_client")
            #expect(badClient.headers[.wwwAuthenticate] == #"Basic realm="linkgate""#)
        }
    }

    @Test("a JWT bearer grant gives a Bearer token that the proxy accepts for that user, within the app's scopes")
    func bearerToken() async throws {
        let harness = try await RequestPathHarness()
        let assertion = try harness.assertion(user: RequestPathHarness.alice)
        try await harness.test { client in
            let exchange = try await client.send(
                .post, "/oauth2/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body:
                    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)&scope=READ"
            )
            #expect(exchange.status == .ok)
            let token = try #require(exchange.json["access_token"] as? String)
            let allowed = try await client.send(
                .get, "/rest/api/3/project/PROJ", headers: [("Authorization", "Bearer \(token)")])
            #expect(allowed.status == .ok)
            let narrow = try await client.send(
                .put, "/rest/api/3/issue/PROJ-1?projectKey=PROJ", headers: [("Authorization", "Bearer \(token)")])
            #expect(narrow.status == .forbidden)
            #expect(
                narrow.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="linkgate", error="insufficient_scope""#)
                    == true)
            let revoked = try await client.send(
                .get, "/rest/api/3/project/PROJ", headers: [("Authorization", "Bearer x.y.z")])
            #expect(revoked.status == .unauthorized)
            #expect(
                revoked.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="linkgate", error="invalid_token""#) == true
            )
        }
        let forwarded = try #require(harness.upstream.requests.first)
        #expect(forwarded.headers["X-Linkgate-Account-Id"] == [RequestPathHarness.alice])
        #expect(forwarded.headers["X-Linkgate-Auth"] == ["jwt-bearer"])
    }

    @Test("ambiguous impersonation: a JSON token request naming a parameter twice, an app acting as another's app user")
    func ambiguousImpersonation() async throws {
        let harness = try await RequestPathHarness()
        let assertion = try harness.assertion(user: RequestPathHarness.alice)
        let asAppUser = try harness.assertion(user: "app-reports")
        let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        try await harness.test { client in
            let twice = try await client.send(
                .post, "/oauth2/token", headers: [("Content-Type", "application/json")],
                body: #"{"grant_type":"\#(grant)","assertion":"\#(assertion)","assertion":"x"}"#)
            #expect(twice.status == .badRequest)
            #expect(twice.json["error"] as? String == "invalid_request")
            let otherApp = try await client.send(
                .post, "/oauth2/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: "grant_type=\(grant)&assertion=\(asAppUser)")
            #expect(otherApp.status == .badRequest)
            #expect(otherApp.json["error"] as? String == "invalid_grant")
            #expect(
                (otherApp.json["error_description"] as? String)?.contains("app user of com.example.reports") == true)
        }
    }

    @Test("the 16 KiB head limit holds for the gateway's own endpoints too: 431")
    func largeHeadOnEndpoint() async throws {
        let harness = try await RequestPathHarness()
        let filler = (0..<20).map { ("X-Filler-\($0)", String(repeating: "b", count: 1000)) }
        try await harness.test { client in
            let response = try await client.send(.post, "/oauth2/token", headers: filler)
            #expect(response.status.code == 431)
            #expect(response.json["error"] as? String == "invalid_request")
        }
        #expect(harness.accessLog.all.last?.metadata["reason"] == "headers_too_large")
    }

    @Test("the login page is a page; a page's wrong method is an HTML 405")
    func pages() async throws {
        let harness = try await RequestPathHarness()
        try await harness.test { client in
            let login = try await client.send(.get, "/login")
            #expect(login.status == .ok)
            #expect(login.headers[.contentType]?.hasPrefix("text/html") == true)
            let put = try await client.send(.put, "/account/apps")
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "GET")
            #expect(put.headers[.contentType]?.hasPrefix("text/html") == true)
            let badForm = try await client.send(.post, "/login", headers: [("Content-Type", "text/plain")], body: "x")
            #expect(badForm.status == .badRequest)
        }
        #expect(harness.accessLog.all.map { $0.metadata["reason"] }.suffix(2) == ["method_not_allowed", "bad_form"])
    }
}
