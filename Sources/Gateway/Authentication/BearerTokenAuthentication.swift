import Policy

/// Bearer access tokens from the gateway's own grants (docs/grants.md): the
/// signature, expiry and revocation, then the app enabled and the user active
/// *now*, with the token's scopes as far as the app still holds them.
struct BearerTokenAuthentication: Sendable {
    func authenticate(_ token: Substring, snapshot: PolicySnapshot) throws(GatewayError) -> Authenticated {
        let (_, identity) = try snapshot.bearerIdentity(token)
        return Authenticated(identity: identity)
    }
}
