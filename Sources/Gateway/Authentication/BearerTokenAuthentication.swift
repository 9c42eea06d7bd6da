import Policy

/// Bearer access tokens from the gateway's own grants (docs/grants.md): the
/// signature, expiry and revocation, then the app enabled and the user active
/// *now*, with the token's scopes as far as the app still holds them.
struct BearerTokenAuthentication: Sendable {
    let grants: GrantServices

    func authenticate(_ token: Substring, policy: PolicySnapshot) throws(GatewayError) -> Authenticated {
        let (_, identity) = try grants.bearerIdentity(token, policy: policy.policy)
        return Authenticated(identity: identity)
    }
}
