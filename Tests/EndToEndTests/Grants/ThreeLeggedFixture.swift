import AsyncHTTPClient
import Foundation
import JWT
import NIOHTTP1
import Testing

/// A user agent for the 3LO pages over plain HTTP: it keeps cookies, reads the
/// forms' hidden fields, and follows the login → consent → redirect dance.
struct BrowserAgent {
    let fixture: GatewayFixture
    var cookies: [String: String] = [:]

    init(_ fixture: GatewayFixture) { self.fixture = fixture }

    var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))]
    }

    mutating func get(_ target: String, headers: [(String, String)] = []) async throws -> GatewayFixture.Reply {
        let reply = try await fixture.send(.GET, target, headers: cookieHeader + headers)
        remember(reply)
        return reply
    }

    mutating func post(
        _ target: String, fields: [(String, String)], headers: [(String, String)] = []
    ) async throws -> GatewayFixture.Reply {
        let reply = try await fixture.post(target, fields: fields, headers: cookieHeader + headers)
        remember(reply)
        return reply
    }

    mutating func remember(_ reply: GatewayFixture.Reply) {
        for header in reply.headers["Set-Cookie"] {
            let pair = header.split(separator: ";")[0].split(
                separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            if header.lowercased().contains("max-age=0") {
                cookies[String(pair[0])] = nil
            } else {
                cookies[String(pair[0])] = String(pair[1])
            }
        }
    }

    /// Signs in through `/login` (after `/authorize` sent the browser there).
    mutating func signIn(
        at loginTarget: String, username: String = "alice", password: String = "alice-demo-password"
    ) async throws -> GatewayFixture.Reply {
        let page = try await get(loginTarget)
        let fields = Self.hiddenFields(page.body, form: "login")
        return try await post("/login", fields: fields + [("username", username), ("password", password)])
    }

    /// Runs `/authorize` to the redirect back to the client, approving (or denying) consent.
    /// Returns the final reply: a 303 whose Location is the client's redirect URI.
    mutating func authorize(
        _ query: String, decision: String = "approve", username: String = "alice",
        password: String = "alice-demo-password"
    ) async throws -> GatewayFixture.Reply {
        var reply = try await get("/authorize?" + query)
        if reply.status == 303, let location = reply.headers["Location"].first, location.hasPrefix("/login") {
            let signedIn = try await signIn(at: location, username: username, password: password)
            #expect(signedIn.status == 303, "login: \(signedIn.status) \(signedIn.body.prefix(300))")
            reply = try await get(try #require(signedIn.headers["Location"].first))
        }
        guard reply.status == 200 else { return reply }
        let fields = Self.hiddenFields(reply.body, form: "consent")
        return try await post("/authorize", fields: fields + [("decision", decision)])
    }

    /// The hidden inputs of the form with this id.
    static func hiddenFields(_ html: String, form id: String) -> [(String, String)] {
        guard let start = html.range(of: "id=\"\(id)\""),
            let end = html.range(of: "</form>", range: start.upperBound..<html.endIndex)
        else { return [] }
        let form = html[start.upperBound..<end.lowerBound]
        let pattern = try! NSRegularExpression(pattern: #"<input type="hidden" name="([^"]+)" value="([^"]*)">"#)
        let text = String(form)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (
                unescape(String(text[Range(match.range(at: 1), in: text)!])),
                unescape(String(text[Range(match.range(at: 2), in: text)!]))
            )
        }
    }

    static func unescape(_ html: String) -> String {
        html.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// The 3LO client of the tests: the example site's Automation app (confidential)
/// and a public client added to the policy copy.
enum ThreeLegged {
    static let clientID = "automation-3lo"
    static let clientSecret = "demo-only-automation-3lo-client-secret"
    static let redirectURI = "http://127.0.0.1:8765/callback"
    static let publicClientID = "mobile-public"
    static let publicRedirectURI = "http://127.0.0.1:8766/mobile/callback"

    /// Adds a public client (PKCE required) and applies lifetime overrides.
    static func edit(_ folder: URL, lifetimes: [String: Int] = [:]) throws {
        let app: [String: Any] = [
            "key": "com.example.mobile", "name": "Mobile", "enabled": true, "scopes": ["READ"],
            "appUser": "app-automation",
            "oauth2": [
                "clientId": publicClientID, "public": true, "redirectUris": [publicRedirectURI],
                "scopes": ["read:jira-work", "read:me", "offline_access"],
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: app, options: [.prettyPrinted])
        try data.write(to: folder.appendingPathComponent("apps/mobile.json"))
        guard !lifetimes.isEmpty else { return }
        try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) { gateway in
            var current = gateway["lifetimes"] as? [String: Any] ?? [:]
            for (name, value) in lifetimes { current[name] = value }
            gateway["lifetimes"] = current
        }
    }

    static func query(
        client: String = clientID, redirect: String = redirectURI,
        scope: String = "read:jira-work write:jira-work offline_access", state: String = "st-123",
        challenge: String? = nil, extra: [(String, String)] = []
    ) -> String {
        var items = [
            ("response_type", "code"), ("client_id", client), ("redirect_uri", redirect), ("scope", scope),
            ("state", state),
        ]
        if let challenge { items += [("code_challenge", challenge), ("code_challenge_method", "S256")] }
        return (items + extra).map { "\($0.0)=\(GatewayFixture.formEncoded($0.1))" }.joined(separator: "&")
    }

    /// A PKCE verifier and its S256 challenge.
    static func pkce() -> (verifier: String, challenge: String) {
        let verifier = SecureRandom.identifier(bytes: 48)
        return (verifier, Base64URL.encode(Digest.sha256.hash(Array(verifier.utf8))))
    }

    /// The query parameters of a redirect's Location.
    static func parameters(of location: String?) -> [String: String] {
        guard let location, let components = URLComponents(string: location) else { return [:] }
        return Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
    }
}

extension GatewayFixture {
    /// `grant_type=authorization_code` with client_secret_basic (or as given).
    func exchangeCode(
        _ code: String, verifier: String? = nil, redirect: String = ThreeLegged.redirectURI,
        client: (String, String)? = (ThreeLegged.clientID, ThreeLegged.clientSecret), json: Bool = false,
        post: Bool = false
    ) async throws -> Reply {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect)]
        if let verifier { fields.append(("code_verifier", verifier)) }
        var headers: [(String, String)] = []
        if let client {
            if post || json {
                fields += [("client_id", client.0), ("client_secret", client.1)]
            } else {
                headers.append(Self.basic(client.0, client.1))
            }
        }
        return try await self.post("/oauth/token", fields: fields, json: json, headers: headers)
    }

    func refresh(
        _ token: String, client: (String, String) = (ThreeLegged.clientID, ThreeLegged.clientSecret),
        scope: String? = nil
    ) async throws -> Reply {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", token)]
        if let scope { fields.append(("scope", scope)) }
        return try await post("/oauth2/token", fields: fields, headers: [Self.basic(client.0, client.1)])
    }

    /// Signs alice in, approves, exchanges the code: the token response.
    func threeLeggedTokens(
        scope: String = "read:jira-work write:jira-work offline_access", username: String = "alice",
        password: String = "alice-demo-password"
    ) async throws -> [String: Any] {
        var agent = BrowserAgent(self)
        let (verifier, challenge) = ThreeLegged.pkce()
        let redirect = try await agent.authorize(
            ThreeLegged.query(scope: scope, challenge: challenge), username: username,
            password: password)
        let code = try #require(
            ThreeLegged.parameters(of: redirect.headers["Location"].first)["code"], "\(redirect.status)")
        let reply = try await exchangeCode(code, verifier: verifier)
        #expect(reply.status == 200, "\(reply.body)")
        return reply.json
    }
}
