import Policy

/// Authenticates and decides one request on the Hummingbird path (docs/gateway.md
/// §3), noting who and why in the access record: the proxy forwards what it
/// allows, the authz listener answers it (docs/forward-auth.md). One code path, so
/// the two cannot decide differently.
struct RequestAuthorizer: Sendable {
    /// An allowed request: who acts, and the matched route's upstream.
    struct Allowed {
        let identity: Identity?
        let target: UpstreamTarget
    }

    let authenticator: Authenticator
    let metrics: GatewayMetrics?

    /// - Throws: the refusal, as `GatewayError` (or the store's error while a
    ///   credential that needs it is checked).
    func authorize(
        _ credential: PresentedCredential, line: RequestLine, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Allowed {
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
        let authorization = ProxyAuthorization(authenticated, credential: credential, line: line, snapshot: snapshot)
        context.access.route = authorization.route
        guard let target = authorization.target else {
            let refusal = authorization.refusal ?? GatewayError(.unknownUpstream, "the route names no known upstream")
            metrics?.decision(allowed: false, reason: refusal.reason)
            throw refusal
        }
        metrics?.decision(allowed: true, reason: "allowed")
        context.access.note {
            $0.reason = "allowed"
            $0.allowed = true
            $0.auditsAllowed = snapshot.policy.document.gateway.auditAllowedRequests
        }
        return Allowed(identity: identity, target: target)
    }
}
