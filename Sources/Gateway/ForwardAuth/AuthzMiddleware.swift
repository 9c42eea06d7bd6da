import HTTPTypes
import Hummingbird
import Policy

/// The authz listener's one answer (docs/forward-auth.md): the decision the proxy
/// would take on the original request, with nothing forwarded. Allowed: 200 with
/// the identity headers of docs/gateway.md §5. Refused: 401 with its challenge or
/// 403 with the JSON body (`GatewayError.forForwardAuthorization`). The gateway's
/// own endpoints are not served here.
struct AuthzMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let live: LivePolicy
    let authorizer: RequestAuthorizer

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        context.access.note { $0.mode = "authz" }
        let snapshot = live.snapshot
        let original = try OriginalRequest(
            method: request.method.rawValue, target: request.head.path ?? "", headers: request.headers,
            pathPrefix: snapshot.policy.document.gateway.authzPathPrefix)
        context.access.note { $0.method = original.method }
        do {
            var line = try RequestLine.parse(method: original.method, target: original.target)
            line.clientAddress = context.clientAddress
            let credential = try PresentedCredential.find(
                authorization: request.headers[values: .authorization].map { Substring($0) },
                rawQuery: line.rawQuery)
            let allowed = try await authorizer.authorize(credential, line: line, snapshot: snapshot, context: context)
            var headers = HTTPFields()
            ForwardedHeaders.identityFields(ForwardedIdentity(allowed.identity), requestId: context.requestId) {
                headers.append(HTTPField(name: HTTPField.Name($0)!, value: $1))
            }
            headers[.contentLength] = "0"
            return Response(status: .ok, headers: headers)
        } catch {
            let realm = snapshot.policy.document.gateway.baseUrl
            throw GatewayError(answering: error, realm: realm).forForwardAuthorization
        }
    }
}
