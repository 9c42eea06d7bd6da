import Grants
import HTTPTypes
import Hummingbird
import JWT
import Logging
import Policy

/// The endpoints the gateway serves itself on the main listener (docs/gateway.md §6), as Hummingbird routes in four groups:
/// the OAuth 2.0 endpoints and discovery documents, the 3LO pages, the account
/// API (accessible-resources), the OAuth 1.0a provider and the Connect install keys. A path none of them
/// registers is proxied.
struct GatewayEndpoints: Sendable {
    let live: LivePolicy
    let grants: GrantServices
    let metrics: GatewayMetrics?
    let pages: PageRenderer
    let sessions: BrowserSessions
    let throttle: LoginThrottle
    /// Each endpoint's `Allow`, filled as `routeCollections` registers them.
    let methods = EndpointMethods()

    init(
        live: LivePolicy, grants: GrantServices, metrics: GatewayMetrics?, pages: PageRenderer, throttle: LoginThrottle
    ) {
        self.live = live
        self.grants = grants
        self.metrics = metrics
        self.pages = pages
        self.sessions = BrowserSessions(store: grants.store)
        self.throttle = throttle
    }

    typealias Routes = RouteCollection<GatewayRequestContext>

    /// Every endpoint group, in the order they are registered.
    var routeCollections: [Routes] { [oauthRoutes, pageRoutes, accountRoutes, oauth1Routes, installKeyRoutes] }

    /// `/oauth2/token` (and `/oauth/token`), `/oauth2/revoke`, `/oauth2/introspect`,
    /// and the discovery documents: JSON in, JSON out; other methods are a JSON 405.
    var oauthRoutes: Routes {
        let routes = Routes(context: GatewayRequestContext.self)
        for path: RouterPath in ["/oauth2/token", "/oauth/token"] {
            routes.answer(path, [.post], otherwise: jsonMethodNotAllowed, recording: methods) { request, context in
                try await token(
                    OAuthParameters.read(request), headers: request.headers, snapshot: live.snapshot, context: context)
            }
        }
        routes.answer("/oauth2/revoke", [.post], otherwise: jsonMethodNotAllowed, recording: methods) {
            request, context in
            try await revoke(
                OAuthParameters.read(request), request: request, snapshot: live.snapshot, context: context)
        }
        routes.answer("/oauth2/introspect", [.post], otherwise: jsonMethodNotAllowed, recording: methods) {
            request, context in
            try introspect(
                await OAuthParameters.read(request), request: request, snapshot: live.snapshot, context: context)
        }
        routes.answer(
            "/.well-known/oauth-authorization-server", [.get, .head], otherwise: jsonMethodNotAllowed,
            recording: methods
        ) {
            _, context in
            context.access.reason = "discovery"
            let baseURL = live.snapshot.policy.document.gateway.baseUrl
            return OAuthResponses.json(AuthorizationServerMetadata.document(baseURL: baseURL), cacheable: true)
        }
        routes.answer("/.well-known/jwks.json", [.get, .head], otherwise: jsonMethodNotAllowed, recording: methods) {
            _, context in
            context.access.reason = "discovery"
            return OAuthResponses.json(PublishedKeys.document(grants.publishedKeys), cacheable: true)
        }
        return routes
    }

    /// The browser side of 3LO: `/authorize`, `/login`, `/logout`, `/account/apps`.
    /// Failures a browser user meets (the store down, a form that does not read)
    /// are answered as pages.
    var pageRoutes: Routes {
        let routes = Routes(context: GatewayRequestContext.self)
        routes.add(middleware: PageErrorMiddleware(pages: pages, live: live, storeErrorsAsPages: true))
        let notAllowed = pageMethodNotAllowed
        routes.answer("/authorize", [.get, .post], otherwise: notAllowed, recording: methods) { request, context in
            context.access.credential = "session"
            let parameters: AuthorizationParameters =
                request.method == .get ? try Self.query(request) : try await Self.form(request)
            return try await authorization(
                parameters, submitted: request.method == .post, request: request, policy: live.snapshot.policy,
                context: context)
        }
        routes.answer("/login", [.get, .post], otherwise: notAllowed, recording: methods) { request, context in
            context.access.credential = "session"
            let policy = live.snapshot.policy
            return request.method == .get
                ? try await loginPage(request, policy: policy, context: context)
                : try await login(request, address: context.clientAddress, policy: policy, context: context)
        }
        routes.answer("/logout", [.post], otherwise: notAllowed, recording: methods) { request, context in
            context.access.credential = "session"
            return try await logout(request, policy: live.snapshot.policy, context: context)
        }
        routes.answer("/account/apps", [.get], otherwise: notAllowed, recording: methods) { request, context in
            context.access.credential = "session"
            return try await connectedApps(request, policy: live.snapshot.policy, notice: nil, context: context)
        }
        routes.answer("/account/apps/revoke", [.post], otherwise: notAllowed, recording: methods) { request, context in
            context.access.credential = "session"
            return try await revokeApp(request, policy: live.snapshot.policy, context: context)
        }
        return routes
    }

    /// `/oauth/token/accessible-resources`, called with a Bearer access token.
    var accountRoutes: Routes {
        let routes = Routes(context: GatewayRequestContext.self)
        routes.answer("/oauth/token/accessible-resources", [.get], otherwise: jsonMethodNotAllowed, recording: methods)
        {
            request, context in
            try await accessibleResources(request, snapshot: live.snapshot, context: context)
        }
        return routes
    }

    /// The OAuth 1.0a provider under `/plugins/servlet/oauth/`: signed requests are
    /// refused with `oauth_problem`; a form that does not read is a page.
    var oauth1Routes: Routes {
        let routes = Routes(context: GatewayRequestContext.self)
        routes.add(middleware: PageErrorMiddleware(pages: pages, live: live, storeErrorsAsPages: false))
        let notAllowed = pageMethodNotAllowed
        routes.answer("/plugins/servlet/oauth/request-token", [.post], otherwise: notAllowed, recording: methods) {
            request, context in
            context.access.credential = "oauth1-provider"
            return try await requestToken(request, snapshot: live.snapshot, context: context)
        }
        routes.answer("/plugins/servlet/oauth/access-token", [.post], otherwise: notAllowed, recording: methods) {
            request, context in
            context.access.credential = "oauth1-provider"
            return try await accessToken(request, snapshot: live.snapshot, context: context)
        }
        routes.answer("/plugins/servlet/oauth/authorize", [.get, .post], otherwise: notAllowed, recording: methods) {
            request, context in
            context.access.credential = "oauth1-provider"
            return try await approve(request, policy: live.snapshot.policy, context: context)
        }
        return routes
    }

    /// 405 as JSON, for the API endpoints.
    var jsonMethodNotAllowed: @Sendable (String, GatewayRequestContext) throws -> Response {
        { allow, _ in throw GatewayError.methodNotAllowed(allow) }
    }
}

extension RouteCollection where Context == GatewayRequestContext {
    /// The methods an endpoint answers 405 to when it does not handle them.
    static var commonMethods: [HTTPRequest.Method] { [.get, .head, .post, .put, .delete, .patch, .options] }

    /// Registers `handler` for `methods` on `path`, and `otherwise` (with the
    /// `Allow` value) for the other common methods; `recording` keeps the `Allow`
    /// for the methods no route is registered for (`EndpointDispatch`).
    @discardableResult
    func answer(
        _ path: RouterPath, _ methods: [HTTPRequest.Method],
        otherwise: @escaping @Sendable (String, Context) throws -> Response,
        recording endpointMethods: EndpointMethods,
        _ handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> Self {
        for method in methods { on(path, method: method, use: handler) }
        let allow = methods.map(\.rawValue).joined(separator: ", ")
        endpointMethods.record(path.description, allow: allow)
        for method in Self.commonMethods where !methods.contains(method) {
            on(path, method: method) { _, context in try otherwise(allow, context) }
        }
        return self
    }
}
