import Foundation
import Grants
import Policy

/// The parameters of `GET /authorize` (and of the consent form that posts them back).
struct AuthorizationParameters: Decodable, Sendable {
    var response_type: String?
    var client_id: String?
    var redirect_uri: String?
    var scope: String?
    var state: String?
    var code_challenge: String?
    var code_challenge_method: String?
    var prompt: String?
    var audience: String?
    // Only on the consent form.
    var csrf: String?
    var decision: String?

    /// The members the consent form carries back, in a fixed order.
    var formFields: [(String, String)] {
        [
            ("response_type", response_type), ("client_id", client_id), ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", state), ("code_challenge", code_challenge), ("code_challenge_method", code_challenge_method),
            ("audience", audience),
        ].compactMap { name, value in value.map { (name, $0) } }
    }
}

/// An authorization request that passed every check (RFC 6749 §4.1.1, RFC 7636 §4.3).
struct AuthorizationRequest: Sendable {
    let app: AppPolicy
    let client: OAuth2Client
    let redirectURI: String
    let state: String?
    let scopes: [String]
    let codeChallenge: String?
    let prompt: String?

    /// Why a request cannot go on: before the client and its redirect URI are known
    /// to be good, an error page (never a redirect, RFC 6749 §4.1.2.1); after, a
    /// redirect to the client with `error` and `state`.
    enum Failure: Error, Sendable {
        case page(heading: String, message: String)
        case redirect(RedirectTarget)
    }

    static let prompts: Set<String> = ["consent", "login", "none"]

    static func validate(
        _ parameters: AuthorizationParameters, policy: CompiledPolicy
    ) -> Result<AuthorizationRequest, Failure> {
        guard let clientID = parameters.client_id, !clientID.isEmpty else {
            return .failure(
                .page(heading: "This link is broken", message: "The request names no client (client_id is missing)."))
        }
        guard let app = policy.document.apps.first(where: { $0.oauth2?.clientId == clientID }), let client = app.oauth2
        else {
            return .failure(
                .page(heading: "Unknown app", message: "No app on this site has the client id \(clientID.prefix(80))."))
        }
        guard app.enabled else {
            return .failure(.page(heading: "App disabled", message: "\(app.name) is disabled on this site."))
        }
        // Exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.0 Security BCP §4.1.3): no prefix,
        // case, port, dot or encoding tricks can reach another address.
        guard let redirectURI = parameters.redirect_uri, client.redirectUris.contains(redirectURI) else {
            return .failure(
                .page(
                    heading: "Unregistered redirect address",
                    message:
                        "\(app.name) asked to send you to an address it has not registered, so this request stops here."
                ))
        }
        let target = { (error: OAuthError.Code, description: String) -> Result<AuthorizationRequest, Failure> in
            .failure(
                .redirect(
                    RedirectTarget(
                        uri: redirectURI, error: error.rawValue, description: description,
                        state: parameters.state)))
        }
        guard parameters.response_type == "code" else {
            return target(.unsupportedResponseType, "response_type must be code")
        }
        let scopes = (parameters.scope ?? "").split(separator: " ").map(String.init)
        guard !scopes.isEmpty else { return target(.invalidScope, "scope is required") }
        if let unknown = scopes.first(where: { !client.scopes.contains($0) }) {
            return target(.invalidScope, "the scope \(unknown.prefix(64)) is not one \(app.name) may ask for")
        }
        if let prompt = parameters.prompt, !prompt.split(separator: " ").allSatisfy({ prompts.contains(String($0)) }) {
            return target(.invalidRequest, "prompt must be consent, login or none")
        }
        if let audience = parameters.audience, !Self.audiences(policy).contains(audience) {
            return target(
                .invalidRequest, "audience must be this site (\(policy.document.gateway.baseUrl)) or api.atlassian.com")
        }
        let method = parameters.code_challenge_method ?? (parameters.code_challenge == nil ? nil : "plain")
        if let method, method != "S256" {
            return target(.invalidRequest, "code_challenge_method must be S256")
        }
        if let challenge = parameters.code_challenge, !PKCE.isWellFormed(challenge) {
            return target(.invalidRequest, "code_challenge must be 43 to 128 characters of base64url")
        }
        if client.isPublic, parameters.code_challenge == nil {
            return target(
                .invalidRequest, "a public client must use PKCE (code_challenge with code_challenge_method=S256)")
        }
        return .success(
            AuthorizationRequest(
                app: app, client: client, redirectURI: redirectURI, state: parameters.state,
                scopes: Self.unique(scopes),
                codeChallenge: parameters.code_challenge, prompt: parameters.prompt))
    }

    var asksForConsent: Bool { prompt?.split(separator: " ").contains("consent") == true }
    var forbidsInteraction: Bool { prompt?.split(separator: " ").contains("none") == true }

    static func audiences(_ policy: CompiledPolicy) -> Set<String> {
        [policy.document.gateway.baseUrl, "api.atlassian.com"]
    }

    private static func unique(_ scopes: [String]) -> [String] {
        var seen = Set<String>()
        return scopes.filter { seen.insert($0).inserted }
    }
}

/// Where the browser goes back to the client: `redirect_uri` with the code or the error, and `state`.
struct RedirectTarget: Sendable {
    let uri: String
    var code: String?
    var error: String?
    var description: String?
    let state: String?

    init(uri: String, code: String, state: String?) {
        self.uri = uri
        self.code = code
        self.state = state
    }

    init(uri: String, error: String, description: String, state: String?) {
        self.uri = uri
        self.error = error
        self.description = description
        self.state = state
    }

    /// The URL, with the parameters added to any query the registered URI already has.
    var location: String {
        var items: [(String, String)] = []
        if let code { items.append(("code", code)) }
        if let error { items.append(("error", error)) }
        if let description { items.append(("error_description", description)) }
        if let state { items.append(("state", state)) }
        let query = items.map { "\(Self.encoded($0.0))=\(Self.encoded($0.1))" }.joined(separator: "&")
        let fragmentless = uri.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return fragmentless + (fragmentless.contains("?") ? "&" : "?") + query
    }

    /// RFC 3986 unreserved characters, ASCII only: everything else is `%XX` of its UTF-8 bytes.
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
