import Grants
import HTTPTypes
import Hummingbird
import JWT
import Logging
import NIOCore
import Policy
import Scopes

/// The main listener's request path for everything that is not one of the
/// gateway's own endpoints (docs/gateway.md §3): find
/// the credential, verify it, decide with the Scopes module, and forward only
/// what is allowed. Refusals are thrown as `GatewayError`; `AccessLogMiddleware`
/// answers them and logs the request.
struct ProxyResponder: HTTPResponder {
    typealias Context = GatewayRequestContext

    /// Largest form body an OAuth 1.0a request may sign (it is held in memory to check the signature).
    static let maxSignedFormBytes = 1024 * 1024

    let live: LivePolicy
    let authorizer: RequestAuthorizer
    let upstream: any Upstream

    func respond(to request: Request, context: Context) async throws -> Response {
        var line = try RequestLine.parse(method: request.method.rawValue, target: request.head.path ?? "")
        line.clientAddress = context.clientAddress
        let snapshot = live.snapshot
        let credential = try PresentedCredential.find(
            authorization: request.headers[values: .authorization].map { Substring($0) }, rawQuery: line.rawQuery)
        var request = request
        if case .oauth1 = credential, request.headers.hasFormBody {
            // OAuth 1.0a signs a form body's parameters too: read it (bounded), then forward what was read.
            let body = try await Self.signedForm(request)
            line.formBody = String(buffer: body)
            request.body = RequestBody(buffer: body)
        }
        let allowed = try await authorizer.authorize(credential, line: line, snapshot: snapshot, context: context)
        // A pending `Expect: 100-continue` is answered now, once the request is authorized.
        context.channel.triggerUserOutboundEvent(ContinueAuthorizedEvent(), promise: nil)
        let headers = ForwardedHeaders.request(
            from: request.headers, authority: request.head.authority, identity: ForwardedIdentity(allowed.identity),
            requestId: context.requestId, clientAddress: context.clientAddress, passed: snapshot.passedClientHeaders,
            isSecure: request.head.scheme == "https")
        return try await upstream.forward(
            request, to: allowed.target, rawPath: line.rawPath,
            rawQuery: line.rawQuery.map(QueryParameters.removingJWT),
            headers: headers, logger: context.logger)
    }

    /// The form body an OAuth 1.0a request signed, at most `maxSignedFormBytes`.
    static func signedForm(_ request: Request) async throws(GatewayError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxSignedFormBytes)
        } catch {
            throw GatewayError(.formTooLarge, "a signed form body over \(maxSignedFormBytes) bytes is not accepted")
        }
    }
}

extension ForwardedIdentity {
    /// What the backend is told about `identity` (anonymous when nil).
    init(_ identity: Identity?) {
        guard let identity else {
            self = .anonymous
            return
        }
        self.init(
            accountId: identity.user.accountId, appKey: identity.appKey, auth: identity.credential.rawValue,
            scopeList: identity.scopeList)
    }
}

/// Sent down the pipeline by the Hummingbird path's proxy once a request is
/// authorized: the data-plane handler then answers a pending
/// `Expect: 100-continue` (and never before).
struct ContinueAuthorizedEvent {}
