import Hummingbird

/// Sends a request to the gateway's own endpoint when its path is exactly one
/// of theirs, and to the proxy otherwise: a path none registers, another
/// spelling of one (`/oauth2//token`, `/oauth2/token/`), or a method none
/// registers (the common ones get a 405 from the endpoint, the others from here:
/// an endpoint's path is never proxied). Added to the router before the endpoints, so it wraps them all and
/// the router's not-found responder too.
struct EndpointDispatch: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let proxy: ProxyResponder
    /// Each endpoint's `Allow`: an endpoint path with a method no route answers is a 405.
    let endpointMethods: EndpointAllowTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try RequestHead.check(request)
        if let endpoint = context.endpointPath, let path = Self.path(of: request.head.path),
            EndpointPaths.matches(path, template: endpoint)
        {
            context.access.note {
                $0.route = endpoint
                $0.isEndpoint = true
            }
            return try await next(request, context)
        }
        if let path = Self.path(of: request.head.path), let allow = endpointMethods.allow(for: path) {
            context.access.note {
                $0.route = String(path)
                $0.isEndpoint = true
            }
            throw GatewayError.methodNotAllowed(allow)
        }
        return try await proxy.respond(to: request, context: context)
    }

    /// The request target's path, as received, without the query.
    static func path(of target: String?) -> Substring? {
        guard let target else { return nil }
        return target[..<(target.firstIndex(of: "?") ?? target.endIndex)]
    }
}
