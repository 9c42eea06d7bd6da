import Foundation
import Testing

/// `GET /authorize`, the login and consent pages, through the real gateway.
@Suite("3LO: /authorize, login and consent")
struct AuthorizeEndpointTests {
    static let target = "/rest/api/3/project/PROJ"

    @Test(
        "an unregistered redirect_uri or an unknown client gets an error page, never a redirect",
        arguments: [
            "http://127.0.0.1:8766/callback",  // another port
            "//evil.example/callback",  // scheme-relative
            "http://127.0.0.1:8765%2Fcallback",  // an encoded slash
            "http://127.0.0.1:8765/callback/",  // a trailing slash
            "http://127.0.0.1.:8765/callback",  // a trailing dot in the host
            "http://127.0.0.1:8765@evil.example/callback",  // userinfo
            "http://evil.example@127.0.0.1:8765/callback",
            "HTTP://127.0.0.1:8765/callback",  // case
            "http://127.0.0.1:8765/callback?x=1",  // an extra query
            "http://127.0.0.1:8765/callback#x",  // a fragment
            "https://127.0.0.1:8765/callback",  // another scheme
            "http://127.0.0.1:8765/callback/../evil",
            "",
        ])
    func unregisteredRedirect(_ redirect: String) async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        let reply = try await agent.get("/authorize?" + ThreeLegged.query(redirect: redirect))
        #expect(reply.status == 400, "\(redirect): \(reply.status)")
        #expect(reply.headers["Location"].isEmpty, "\(redirect) was redirected to \(reply.headers["Location"])")
        #expect(reply.body.contains("Unregistered redirect address"))
        #expect(reply.headers["Content-Type"].first == "text/html; charset=utf-8")
    }

    @Test("an unknown or missing client is an error page too")
    func unknownClient() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        for query in [
            ThreeLegged.query(client: "nobody"),
            "response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback",
        ] {
            let reply = try await agent.get("/authorize?" + query)
            #expect(reply.status == 400 && reply.headers["Location"].isEmpty, "\(reply.status)")
        }
    }

    @Test("other errors redirect to the client with error and state (RFC 6749 §4.1.2.1)")
    func redirectedErrors() async throws {
        let fixture = try await GatewayFixture(.sqlite) { try ThreeLegged.edit($0) }
        var agent = BrowserAgent(fixture)
        let cases: [(String, String)] = [
            (
                ThreeLegged.query().replacingOccurrences(of: "response_type=code", with: "response_type=token"),
                "unsupported_response_type"
            ),
            (ThreeLegged.query(scope: "read:jira-work manage:jira-configuration"), "invalid_scope"),
            (ThreeLegged.query(scope: ""), "invalid_scope"),
            (
                ThreeLegged.query(
                    client: ThreeLegged.publicClientID, redirect: ThreeLegged.publicRedirectURI, scope: "read:jira-work"
                ),
                "invalid_request"
            ),  // a public client without PKCE
            (
                ThreeLegged.query(extra: [
                    ("code_challenge", String(repeating: "a", count: 43)), ("code_challenge_method", "plain"),
                ]),
                "invalid_request"
            ),
            (ThreeLegged.query(extra: [("prompt", "select_account")]), "invalid_request"),
            (ThreeLegged.query(extra: [("prompt", "none")]), "login_required"),
        ]
        for (query, error) in cases {
            let reply = try await agent.get("/authorize?" + query)
            #expect(reply.status == 303, "\(error): \(reply.status) \(reply.body.prefix(200))")
            let location = try #require(reply.headers["Location"].first)
            #expect(location.hasPrefix(ThreeLegged.redirectURI) || location.hasPrefix(ThreeLegged.publicRedirectURI))
            let parameters = ThreeLegged.parameters(of: location)
            #expect(parameters["error"] == error, "\(location)")
            #expect(parameters["state"] == "st-123")
            #expect(parameters["code"] == nil)
        }
    }

    @Test("login → consent → code; Deny → access_denied; consent is remembered unless prompt=consent")
    func consentFlow() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        let first = try await agent.get("/authorize?" + ThreeLegged.query())
        #expect(first.status == 303)
        let login = try #require(first.headers["Location"].first)
        #expect(login.hasPrefix("/login?return_to=%2Fauthorize%3F"))
        let loginPage = try await agent.get(login)
        #expect(loginPage.status == 200)
        Self.expectPageHeaders(loginPage)
        let csrfCookie = try #require(loginPage.headers["Set-Cookie"].first { $0.hasPrefix("lg_csrf=") })
        #expect(
            csrfCookie.contains("HttpOnly") && csrfCookie.contains("SameSite=Lax") && !csrfCookie.contains("Secure"))

        let signedIn = try await agent.signIn(at: login)
        #expect(signedIn.status == 303)
        let session = try #require(signedIn.headers["Set-Cookie"].first { $0.hasPrefix("lg_session=") })
        #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"))
        let consent = try await agent.get(try #require(signedIn.headers["Location"].first))
        #expect(consent.status == 200)
        Self.expectPageHeaders(consent)
        #expect(consent.body.contains("<h1>Automation wants to access your account</h1>"))
        for scope in ["read:jira-work", "write:jira-work", "offline_access"] {
            #expect(consent.body.contains("<code>\(scope)</code>"))
        }
        #expect(consent.body.contains("Keep this access while you are away"))

        let denied = try await agent.post(
            "/authorize", fields: BrowserAgent.hiddenFields(consent.body, form: "consent") + [("decision", "deny")])
        #expect(denied.status == 303)
        let deniedParameters = ThreeLegged.parameters(of: denied.headers["Location"].first)
        #expect(deniedParameters["error"] == "access_denied" && deniedParameters["state"] == "st-123")

        let approved = try await agent.authorize(ThreeLegged.query())
        let code = ThreeLegged.parameters(of: approved.headers["Location"].first)
        #expect(code["code"]?.count ?? 0 >= 40 && code["state"] == "st-123", "\(approved.headers["Location"])")
        // Remembered: straight back with a code; prompt=consent asks again.
        let again = try await agent.get("/authorize?" + ThreeLegged.query(scope: "read:jira-work"))
        #expect(again.status == 303 && ThreeLegged.parameters(of: again.headers["Location"].first)["code"] != nil)
        let asked = try await agent.get("/authorize?" + ThreeLegged.query(extra: [("prompt", "consent")]))
        #expect(asked.status == 200 && asked.body.contains("id=\"consent\""))
    }

    @Test("forms need their CSRF token; wrong passwords slow down and then lock out")
    func csrfAndThrottle() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        var agent = BrowserAgent(fixture)
        _ = try await agent.authorize(ThreeLegged.query())  // signs in
        let consent = try await agent.get("/authorize?" + ThreeLegged.query(extra: [("prompt", "consent")]))
        var fields = BrowserAgent.hiddenFields(consent.body, form: "consent").filter { $0.0 != "csrf" }
        fields.append(("csrf", "forged"))
        let forged = try await agent.post("/authorize", fields: fields + [("decision", "approve")])
        #expect(forged.status == 403 && forged.headers["Location"].isEmpty)
        // A login post without the form's cookie is refused.
        let noCookie = try await fixture.post(
            "/login", fields: [("username", "bob"), ("password", "bob-demo-password"), ("csrf", "x")])
        #expect(noCookie.status == 403)

        // Inactive users cannot sign in, even with the right password.
        var carol = BrowserAgent(fixture)
        #expect(try await carol.signIn(at: "/login", username: "carol", password: "carol-demo-password").status == 401)
        var attacker = BrowserAgent(fixture)
        for attempt in 1...5 {  // five failures for bob from this address
            let reply = try await attacker.signIn(at: "/login", username: "bob", password: "wrong-\(attempt)")
            #expect(reply.status == 401, "attempt \(attempt): \(reply.status)")
            #expect(reply.body.contains("role=\"alert\""))
        }
        let locked = try await attacker.signIn(at: "/login", username: "bob", password: "bob-demo-password")
        #expect(locked.status == 429)
        #expect(Int(locked.headers["Retry-After"].first ?? "") ?? 0 >= 1)
    }

    @Test("a trusted SSO header signs the user in when gateway.json names it")
    func trustedHeader() async throws {
        let fixture = try await GatewayFixture(.sqlite) { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["login"] = ["local": false, "trustedHeader": "X-Remote-User"]
            }
        }
        var agent = BrowserAgent(fixture)
        let page = try await agent.get(
            "/authorize?" + ThreeLegged.query(), headers: [("X-Remote-User", GatewayFixture.bob)])
        #expect(page.status == 200 && page.body.contains("Bob User"), "\(page.status)")
        let fields = BrowserAgent.hiddenFields(page.body, form: "consent")
        let approved = try await agent.post(
            "/authorize", fields: fields + [("decision", "approve")],
            headers: [("X-Remote-User", GatewayFixture.bob)])
        #expect(ThreeLegged.parameters(of: approved.headers["Location"].first)["code"] != nil)
        // Without the header and without local login there is no way in.
        let none = try await agent.get("/authorize?" + ThreeLegged.query())
        #expect(none.status == 401)
    }

    static func expectPageHeaders(_ reply: GatewayFixture.Reply) {
        #expect(reply.headers["X-Frame-Options"].first == "DENY")
        #expect(reply.headers["Content-Security-Policy"].first?.contains("frame-ancestors 'none'") == true)
        #expect(reply.headers["Cache-Control"].first == "no-store")
        #expect(reply.body.contains("<meta name=\"viewport\""))
        #expect(!reply.body.contains("<script"))
    }
}
