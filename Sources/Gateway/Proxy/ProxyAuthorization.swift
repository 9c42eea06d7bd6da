import Policy
import Scopes

/// The decision on a proxied request once its credential is verified: the
/// Scopes decision, then the route's upstream. Both data paths ask this
/// (docs/gateway.md §3), so they cannot decide differently.
struct ProxyAuthorization {
    /// The matched route's path template, for the access log, allowed or not.
    var route: String?
    /// Where an allowed request goes; nil when refused.
    var target: UpstreamTarget?
    /// Why the request is refused; nil when allowed.
    var refusal: GatewayError?

    init(_ authenticated: Authenticated?, credential: PresentedCredential, line: RequestLine, snapshot: PolicySnapshot)
    {
        let identity = authenticated?.identity
        var request = DecisionRequest(
            credential: identity?.credential ?? .anonymous, appKey: identity?.appKey, user: identity?.user,
            heldScopes: identity?.scopes ?? .empty, method: line.method, rawPath: line.rawPath, rawQuery: line.rawQuery)
        request.impliedScopes = identity?.impliedScopes
        request.isContextToken = authenticated?.isContextToken ?? false
        let decision = decide(request, policy: snapshot.policy.decision)
        let match = decision.trace.route
        route = match?.rule.path.description
        if let denial = decision.denial {
            refusal = GatewayError(denial, scheme: credential.scheme)
        } else if let match, let target = snapshot.upstreams[match.rule.upstream] {
            self.target = target
        } else {
            refusal = GatewayError(.unknownUpstream, "the route names no known upstream")
        }
    }
}
