import Grants
import HTTPTypes
import Hummingbird
import JWT
import Logging
import NIOCore
import Scopes

/// The main listener's request path (CONTRACT §3–§5): find the credential,
/// verify it, decide with the Scopes module, and forward only what is allowed.
/// Every request ends in one access-log line and the request metrics.
public struct ProxyResponder: HTTPResponder {
    public typealias Context = GatewayRequestContext

    /// Largest request head accepted (CONTRACT §4): more is a 431.
    public static let maxHeaderBytes = 16 * 1024
    /// Largest form body an OAuth 1.0a request may sign (it is held in memory to check the signature).
    public static let maxSignedFormBytes = 1024 * 1024

    static func isForm(_ headers: HTTPFields) -> Bool {
        headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }

    let live: LivePolicy
    let authenticator: Authenticator
    let forwarder: UpstreamForwarder
    let metrics: GatewayMetrics?
    let accessLog: Logger
    let endpoints: GatewayEndpoints?
    let audit: AuditWriter?

    init(live: LivePolicy, authenticator: Authenticator, forwarder: UpstreamForwarder, metrics: GatewayMetrics?,
         accessLog: Logger, endpoints: GatewayEndpoints? = nil, audit: AuditWriter? = nil) {
        self.live = live
        self.authenticator = authenticator
        self.forwarder = forwarder
        self.metrics = metrics
        self.accessLog = accessLog
        self.endpoints = endpoints
        self.audit = audit
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var record = AccessRecord(
            requestId: RequestID.resolve(request.headers[values: .xRequestID].first),
            method: request.method.rawValue)
        let response: Response
        if let endpoints, let (endpoint, path) = GatewayEndpoints.endpoint(forTarget: request.head.path) {
            record.route = String(path)
            response = await endpoints.respond(to: endpoint, request: request, context: context, record: &record)
            // A success is an allow; a redirect or page is one only where the endpoint said so
            // (a code issued, a sign-in), never for a redirect that carries an error.
            record.allowed = record.allowed || response.status.code < 300
        } else {
            do {
                response = try await handle(request, context: context, record: &record)
            } catch {
                record.reason = error.reason
                response = Self.response(for: error, requestId: record.requestId)
            }
        }
        record.status = response.status.code
        record.latency = ContinuousClock.now - started
        record.log(to: accessLog)
        audit?.record(record.auditEntry(at: UnixMilliseconds.now()))
        metrics?.request(route: record.route ?? "", method: record.method, status: record.status)
        return response
    }

    private func handle(_ request: Request, context: Context, record: inout AccessRecord) async throws(GatewayError)
        -> Response
    {
        try Self.checkHeaderSize(request)
        var line = try Self.requestLine(request)
        line.clientAddress = context.clientAddress
        let snapshot = live.snapshot
        let credential = try PresentedCredential.find(
            authorization: request.headers[values: .authorization].map { Substring($0) }, rawQuery: line.rawQuery)
        var request = request
        if case .oauth1 = credential, Self.isForm(request.headers) {
            // OAuth 1.0a signs a form body's parameters too: read it (bounded), then forward what was read.
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Self.maxSignedFormBytes)
            } catch {
                throw .invalidRequest("a signed form body over \(Self.maxSignedFormBytes) bytes is not accepted",
                                      reason: "form_too_large", status: 413)
            }
            line.formBody = String(buffer: body)
            request.body = RequestBody(buffer: body)
        }
        record.credential = credential.auditName
        let authenticated: Authenticated?
        do {
            authenticated = try await authenticator.authenticate(credential, request: line, policy: snapshot)
        } catch {
            metrics?.decision(allowed: false, reason: error.reason)
            throw error
        }
        let identity = authenticated?.identity
        record.appKey = identity?.appKey
        record.accountId = identity?.user.accountId
        if let identity { record.credential = identity.credential.rawValue }
        let decision = decide(
            DecisionRequest(
                credential: identity?.credential ?? .anonymous, appKey: identity?.appKey, user: identity?.user,
                heldScopes: identity?.scopes ?? .empty, method: line.method, rawPath: line.rawPath, rawQuery: line.rawQuery),
            policy: snapshot.policy.decision)
        let match = decision.trace.route
        record.route = match?.rule.path.description
        let refusal = Self.refusal(decision, authenticated: authenticated, scheme: credential.scheme)
        metrics?.decision(allowed: refusal == nil, reason: refusal?.reason ?? "allowed")
        if let refusal { throw refusal }
        guard let match, let target = snapshot.upstreams[match.rule.upstream] else {
            throw GatewayError(status: 502, error: "bad_gateway", message: "the route names no known upstream",
                               reason: "unknown_upstream")
        }
        record.reason = "allowed"
        record.allowed = true
        let headers = ForwardedHeaders.request(
            from: request.headers, authority: request.head.authority, identity: Self.forwarded(identity),
            requestId: record.requestId, clientAddress: context.clientAddress)
        return try await forwarder.forward(
            request, to: target, rawPath: line.rawPath, rawQuery: line.rawQuery.map(QueryParameters.removingJWT),
            headers: headers, logger: context.logger)
    }

    /// The refusal for a decision, or nil when the request may pass.
    static func refusal(_ decision: Decision, authenticated: Authenticated?, scheme: AuthorizationScheme) -> GatewayError? {
        if let denial = decision.denial { return error(for: denial, scheme: scheme) }
        if let authenticated, authenticated.isContextToken, decision.trace.route?.rule.contextJWT != true {
            return .invalidToken(
                "a context token (qsh \"context-qsh\") is not accepted on this route", reason: "context_qsh_not_allowed",
                scheme: .jwt)
        }
        return nil
    }

    /// CONTRACT §4 for a decision's denial.
    static func error(for denial: Denial, scheme: AuthorizationScheme) -> GatewayError {
        switch denial {
        case .noRoute:
            return GatewayError(status: 404, error: "not_found", message: denial.message, reason: denial.code)
        case .unauthenticated:
            return .credentialRequired(denial.message)
        case .insufficientScope(let required):
            var error = GatewayError(status: 403, error: denial.error, message: denial.message, reason: denial.code)
            let names = required.map(\.name)
            error.details = [("required_scopes", .array(names.map { .string($0) }))]
            if scheme == .bearer {
                error.challenges = [
                    "Bearer realm=\"\(GatewayError.realm)\", error=\"insufficient_scope\", scope=\"\(names.joined(separator: " "))\""
                ]
            }
            return error
        case .insufficientPermission(let permission, let resource):
            var error = GatewayError(status: 403, error: denial.error, message: denial.message, reason: denial.code)
            error.details = [("permission", .string(permission)), ("resource", .string(resource.description))]
            return error
        case .resourceUndetermined(let permission, let template, _):
            var error = GatewayError(status: 403, error: denial.error, message: denial.message, reason: denial.code)
            error.details = [("permission", .string(permission)), ("resource", .string(template))]
            return error
        }
    }

    static func forwarded(_ identity: Identity?) -> ForwardedIdentity {
        guard let identity else { return .anonymous }
        return ForwardedIdentity(
            accountId: identity.user.accountId, appKey: identity.appKey, auth: identity.credential.rawValue,
            scopes: identity.scopes.sorted.map(\.name))
    }

    /// 431 when the request head is over 16 KiB.
    static func checkHeaderSize(_ request: Request) throws(GatewayError) {
        var size = (request.head.path?.utf8.count ?? 0) + (request.head.authority?.utf8.count ?? 0)
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        guard size <= maxHeaderBytes else {
            throw .invalidRequest(
                "the request headers are \(size) bytes; at most \(maxHeaderBytes) are accepted",
                reason: "headers_too_large", status: 431)
        }
    }

    /// The method and the raw path and query, refusing targets that are not
    /// origin-form or not well percent-encoded.
    static func requestLine(_ request: Request) throws(GatewayError) -> RequestLine {
        guard let target = request.head.path, target.utf8.first == UInt8(ascii: "/") else {
            throw .invalidRequest("the request target must be a path starting with /", reason: "bad_target")
        }
        let question = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = question.map { target[..<$0] } ?? target[...]
        let rawQuery = question.map { target[target.index(after: $0)...] }
        // Also refuses a malformed `%` in the path: one pass over its segments.
        if let problem = PathNormalization.problem(in: rawPath) {
            throw .invalidRequest(problem, reason: "path_not_normalized")
        }
        if let rawQuery, !QueryParameters.isWellFormed(rawQuery) {
            throw .invalidRequest("the query has a % that is not followed by two hex digits", reason: "bad_query_encoding")
        }
        return RequestLine(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery)
    }

    /// The JSON answer for a refusal, with its challenges and the request id.
    static func response(for error: GatewayError, requestId: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store", .xRequestID: requestId]
        for challenge in error.challenges { headers.append(HTTPField(name: .wwwAuthenticate, value: challenge)) }
        if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
        return Response(
            status: HTTPResponse.Status(code: error.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: error.body)))
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
