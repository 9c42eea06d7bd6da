import Grants
import HTTPTypes
import Hummingbird
import JWT
import Logging

/// The endpoints the gateway serves itself on the main listener (CONTRACT §6),
/// ahead of the routes: the token endpoint, revocation, introspection, the
/// discovery documents, the 3LO pages, accessible-resources and the OAuth 1.0a
/// provider. A path `endpoint(forTarget:)` does not know is proxied.
struct GatewayEndpoints: Sendable {
    enum Endpoint: Sendable {
        case token, revoke, introspect, metadata, jwks
        case authorize, login, logout, accountApps, accountAppsRevoke, accessibleResources
        case oauth1RequestToken, oauth1Authorize, oauth1AccessToken
    }

    static let paths: [Substring: Endpoint] = [
        "/oauth2/token": .token, "/oauth/token": .token,
        "/oauth2/revoke": .revoke, "/oauth2/introspect": .introspect,
        "/.well-known/oauth-authorization-server": .metadata, "/.well-known/jwks.json": .jwks,
        "/authorize": .authorize, "/login": .login, "/logout": .logout,
        "/account/apps": .accountApps, "/account/apps/revoke": .accountAppsRevoke,
        "/oauth/token/accessible-resources": .accessibleResources,
        "/plugins/servlet/oauth/request-token": .oauth1RequestToken, "/plugins/servlet/oauth/authorize": .oauth1Authorize,
        "/plugins/servlet/oauth/access-token": .oauth1AccessToken,
    ]

    let live: LivePolicy
    let grants: GrantServices
    let metrics: GatewayMetrics?
    let pages: PageRenderer
    let sessions: BrowserSessions
    let throttle: LoginThrottle

    init(live: LivePolicy, grants: GrantServices, metrics: GatewayMetrics?, pages: PageRenderer, throttle: LoginThrottle) {
        self.live = live
        self.grants = grants
        self.metrics = metrics
        self.pages = pages
        self.sessions = BrowserSessions(store: grants.store)
        self.throttle = throttle
    }

    /// The endpoint a request target (path and query) names, with its path; nil for everything else.
    static func endpoint(forTarget target: String?) -> (Endpoint, Substring)? {
        guard let target else { return nil }
        let bytes = target.utf8
        // Every endpoint path starts with "/o", "/.", "/a", "/l" or "/p": one byte test keeps the proxy path cheap.
        guard bytes.count > 2, let second = bytes.dropFirst().first, firstLetters.contains(second) else { return nil }
        let path = target[..<(target.firstIndex(of: "?") ?? target.endIndex)]
        return paths[path].map { ($0, path) }
    }

    static let firstLetters: Set<UInt8> = Set(paths.keys.compactMap { $0.utf8.dropFirst().first })

    func respond(to endpoint: Endpoint, request: Request, context: GatewayRequestContext, record: inout AccessRecord)
        async -> Response
    {
        let snapshot = live.snapshot
        switch endpoint {
        case .authorize, .login, .logout, .accountApps, .accountAppsRevoke:
            return await page(endpoint, request: request, context: context, policy: snapshot.policy, record: &record)
        case .accessibleResources:
            return await accessibleResources(request, policy: snapshot.policy, record: &record)
        case .oauth1RequestToken, .oauth1Authorize, .oauth1AccessToken:
            return await oauth1(endpoint, request: request, context: context, policy: snapshot.policy, record: &record)
        case .metadata, .jwks:
            guard request.method == .get || request.method == .head else {
                return OAuthResponses.methodNotAllowed(allow: "GET, HEAD", requestId: record.requestId)
            }
            record.reason = "discovery"
            let document = endpoint == .jwks
                ? PublishedKeys.document(grants.publishedKeys)
                : AuthorizationServerMetadata.document(baseURL: snapshot.policy.document.gateway.baseUrl)
            return OAuthResponses.json(document, requestId: record.requestId, cacheable: true)
        case .token, .revoke, .introspect:
            guard request.method == .post else {
                return OAuthResponses.methodNotAllowed(allow: "POST", requestId: record.requestId)
            }
            do {
                let parameters = try await OAuthParameters.read(request)
                switch endpoint {
                case .token: return try await token(parameters, headers: request.headers, policy: snapshot.policy, record: &record)
                case .revoke: return try await revoke(parameters, request: request, policy: snapshot.policy, record: &record)
                default: return try introspect(parameters, request: request, policy: snapshot.policy, record: &record)
                }
            } catch let error as OAuthError {
                record.reason = error.code.rawValue
                return OAuthResponses.error(error, requestId: record.requestId)
            } catch {
                metrics?.storeError()
                record.reason = "store_unavailable"
                return OAuthResponses.json(
                    .object(JSONObject([("error", "temporarily_unavailable"),
                                        ("error_description", "the gateway's store could not be reached; try again")])),
                    status: .serviceUnavailable, requestId: record.requestId)
            }
        }
    }
}
