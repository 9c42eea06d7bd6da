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

    /// `line`, `credential` and `snapshot` are borrowed: an initializer's arguments
    /// are otherwise passed owned, and the caller copies what it still holds.
    init(
        _ authenticated: Authenticated?, credential: borrowing PresentedCredential, line: borrowing RequestLine,
        snapshot: borrowing PolicySnapshot
    ) {
        // Who acts is one reference (the identity's `Principal`): the request costs
        // a few retains where it held the app key, the user and both scope sets.
        let decision = decide(
            DecisionRequest(
                principal: authenticated?.identity.principal ?? .anonymous, method: line.method,
                rawPath: line.rawPath, rawQuery: line.rawQuery, isContextToken: authenticated?.isContextToken ?? false),
            policy: snapshot.policy.decision)
        let match = decision.trace.route
        route = match?.rule.pathText
        if let denial = decision.denial {
            refusal = GatewayError(denial, scheme: credential.scheme)
        } else if let match, let target = snapshot.upstream(of: match.rule) {
            self.target = target
        } else {
            refusal = GatewayError(.unknownUpstream, "the route names no known upstream")
        }
    }
}
