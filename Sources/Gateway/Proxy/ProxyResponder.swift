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
    let authenticator: Authenticator
    let upstream: any Upstream
    let metrics: GatewayMetrics?

    func respond(to request: Request, context: Context) async throws -> Response {
        var line = try Self.requestLine(request)
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
        context.access.credential = credential.auditName
        let authenticated: Authenticated?
        do {
            authenticated = try await authenticator.authenticate(credential, request: line, snapshot: snapshot)
        } catch {
            metrics?.decision(allowed: false, reason: error.reason)
            throw error
        }
        let identity = authenticated?.identity
        context.access.note {
            $0.appKey = identity?.appKey
            $0.accountId = identity?.user.accountId
            if let identity { $0.credential = identity.credential.rawValue }
        }
        var decisionRequest = DecisionRequest(
            credential: identity?.credential ?? .anonymous, appKey: identity?.appKey, user: identity?.user,
            heldScopes: identity?.scopes ?? .empty, method: line.method, rawPath: line.rawPath, rawQuery: line.rawQuery)
        decisionRequest.isContextToken = authenticated?.isContextToken ?? false
        let decision = decide(decisionRequest, policy: snapshot.policy.decision)
        let match = decision.trace.route
        context.access.route = match?.rule.path.description
        if let denial = decision.denial {
            let refusal = GatewayError(denial, scheme: credential.scheme)
            metrics?.decision(allowed: false, reason: refusal.reason)
            throw refusal
        }
        metrics?.decision(allowed: true, reason: "allowed")
        guard let match, let target = snapshot.upstreams[match.rule.upstream] else {
            throw GatewayError(.unknownUpstream, "the route names no known upstream")
        }
        context.access.note {
            $0.reason = "allowed"
            $0.allowed = true
            $0.auditsAllowed = snapshot.policy.document.gateway.auditAllowedRequests
        }
        let headers = ForwardedHeaders.request(
            from: request.headers, authority: request.head.authority, identity: ForwardedIdentity(identity),
            requestId: context.requestId, clientAddress: context.clientAddress, passed: snapshot.passedClientHeaders)
        return try await upstream.forward(
            request, to: target, rawPath: line.rawPath, rawQuery: line.rawQuery.map(QueryParameters.removingJWT),
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

    /// The method and the raw path and query, refusing targets that are not
    /// origin-form or not well percent-encoded.
    static func requestLine(_ request: Request) throws(GatewayError) -> RequestLine {
        guard let target = request.head.path, target.utf8.first == UInt8(ascii: "/") else {
            throw GatewayError(.badTarget, "the request target must be a path starting with /")
        }
        let question = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = question.map { target[..<$0] } ?? target[...]
        let rawQuery = question.map { target[target.index(after: $0)...] }
        // Also refuses a malformed `%` in the path: one pass over its segments.
        if let problem = PathNormalization.problem(in: rawPath) {
            throw GatewayError(.pathNotNormalized, problem)
        }
        if let rawQuery, !QueryParameters.isWellFormed(rawQuery) {
            throw GatewayError(.badQueryEncoding, "the query has a % that is not followed by two hex digits")
        }
        return RequestLine(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery)
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
            scopes: identity.scopes.sorted.map(\.name))
    }
}
