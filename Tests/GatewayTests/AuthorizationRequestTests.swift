import Foundation
import Policy
import Testing

@testable import Gateway

@Suite("Authorization requests: validation, redirects, return paths")
struct AuthorizationRequestTests {
    static let policy = try! PolicyLoader.compile(folder: ExampleSite.folder, environment: [:])
    static let callback = "http://127.0.0.1:8765/callback"

    func parameters(_ change: (inout AuthorizationParameters) -> Void = { _ in }) -> AuthorizationParameters {
        var parameters = AuthorizationParameters()
        parameters.response_type = "code"
        parameters.client_id = "automation-3lo"
        parameters.redirect_uri = Self.callback
        parameters.scope = "read:jira-work read:jira-work offline_access"
        parameters.state = "s"
        change(&parameters)
        return parameters
    }

    @Test("a valid request keeps the scopes once each, in order")
    func valid() throws {
        let request = try AuthorizationRequest.validate(parameters(), policy: Self.policy).get()
        #expect(request.app.key == "com.example.automation")
        #expect(request.scopes == ["read:jira-work", "offline_access"])
        #expect(request.state == "s" && request.redirectURI == Self.callback)
    }

    @Test(
        "redirect URIs compare as exact strings",
        arguments: [
            "http://127.0.0.1:8765/callback/", "http://127.0.0.1:8765/Callback", "http://localhost:8765/callback",
            "http://127.0.0.1:8765/callback%2F..", "http://127.0.0.1:8765//callback", " http://127.0.0.1:8765/callback",
        ])
    func exactRedirect(_ uri: String) {
        guard
            case .failure(.page) = AuthorizationRequest.validate(
                parameters { $0.redirect_uri = uri }, policy: Self.policy)
        else {
            Issue.record("\(uri) was accepted or redirected to")
            return
        }
    }

    @Test("after the redirect URI is known, errors go back to it with state")
    func redirected() {
        let cases: [(AuthorizationParameters, String)] = [
            (parameters { $0.response_type = "token" }, "unsupported_response_type"),
            (parameters { $0.scope = "read:jira-work ADMIN" }, "invalid_scope"),
            (
                parameters {
                    $0.code_challenge = String(repeating: "a", count: 43)
                    $0.code_challenge_method = "plain"
                }, "invalid_request"
            ),
            (
                parameters {
                    $0.code_challenge = "short"
                    $0.code_challenge_method = "S256"
                }, "invalid_request"
            ),
            (parameters { $0.audience = "https://evil.example" }, "invalid_request"),
        ]
        for (request, error) in cases {
            guard case .failure(.redirect(let target)) = AuthorizationRequest.validate(request, policy: Self.policy)
            else {
                Issue.record("expected a redirect with \(error)")
                continue
            }
            #expect(target.error == error)
            #expect(target.location.hasPrefix(Self.callback + "?error=\(error)&error_description="))
            #expect(target.location.hasSuffix("&state=s"))
        }
    }

    @Test("the redirect keeps the registered query and encodes every parameter")
    func location() {
        let target = RedirectTarget(uri: "https://app.example/cb?tenant=1", code: "a+b/c", state: "x y&z=é")
        #expect(target.location == "https://app.example/cb?tenant=1&code=a%2Bb%2Fc&state=x%20y%26z%3D%C3%A9")
    }

    @Test(
        "after login only paths on this site are followed",
        arguments: [
            ("/authorize?x=1", "/authorize?x=1"), ("//evil.example/", "/account/apps"),
            ("/\\evil.example", "/account/apps"),
            ("https://evil.example/", "/account/apps"), ("", "/account/apps"),
            ("/ok\r\nSet-Cookie: x", "/account/apps"), ("/\t/evil.example/", "/account/apps"),
            ("/\n/evil.example/", "/account/apps"), ("/ /evil.example", "/account/apps"),
            ("/\u{00A0}/evil.example", "/account/apps"), ("/", "/account/apps"), ("/x\u{7F}", "/account/apps"),
            ("/authorize?scope=read%20write", "/authorize?scope=read%20write"),
        ])
    func safeReturn(_ pair: (String, String)) {
        #expect(GatewayEndpoints.safeReturn(pair.0) == pair.1)
    }
}
