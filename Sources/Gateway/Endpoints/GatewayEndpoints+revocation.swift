import Grants
import Hummingbird
import JWT
import Policy

extension GatewayEndpoints {
    /// `POST /oauth2/revoke` (RFC 7009): the client revokes one of its own
    /// access tokens. An unknown, malformed or expired token is a 200 too
    /// (§2.2: the client cannot do anything about it); another client's token is refused.
    func revoke(
        _ parameters: OAuthParameters, request: Request, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        let policy = snapshot.policy
        let client = try ClientAuthentication.authenticate(
            headers: request.headers, parameters: parameters, policy: policy)
        context.access.appKey = client.app.key
        context.access.credential = "client"
        guard let token = parameters.token, !token.isEmpty else {
            throw OAuthError(.invalidRequest, "token is required")
        }
        if let hint = parameters.token_type_hint, hint != "access_token", hint != "refresh_token" {
            throw OAuthError(.invalidRequest, "token_type_hint must be access_token or refresh_token")
        }
        guard let claims = signedClaims(token, snapshot: snapshot) else {
            context.access.reason = "unknown_token"
            return OAuthResponses.json(.object(JSONObject()))
        }
        guard claims.appKey == client.app.key else {
            throw OAuthError(.unauthorizedClient, "the token was not issued to this client")
        }
        try await grants.revoke(claims, reason: "revoked by client \(client.clientID)")
        context.access.accountId = claims.subject
        context.access.reason = "token_revoked"
        return OAuthResponses.json(.object(JSONObject()))
    }

    /// `POST /oauth2/introspect` (RFC 7662): for the client's own tokens, whether
    /// they are active now (signature, expiry, revocation, the app enabled and
    /// the user active) and what they carry; every other token is `{"active": false}`.
    func introspect(
        _ parameters: OAuthParameters, request: Request, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) throws -> Response {
        let policy = snapshot.policy
        let client = try ClientAuthentication.authenticate(
            headers: request.headers, parameters: parameters, policy: policy)
        context.access.appKey = client.app.key
        context.access.credential = "client"
        guard let token = parameters.token, !token.isEmpty else {
            throw OAuthError(.invalidRequest, "token is required")
        }
        context.access.reason = "introspected"
        let inactive = JSONValue.object(JSONObject([("active", false)]))
        guard token.utf8.count <= PresentedCredential.maxTokenBytes,
            let (claims, identity) = try? snapshot.bearerIdentity(token[...]),
            claims.appKey == client.app.key, let user = policy.user(accountId: claims.subject)
        else {
            return OAuthResponses.json(inactive)
        }
        context.access.accountId = claims.subject
        return OAuthResponses.json(
            .object(
                JSONObject([
                    ("active", true),
                    ("scope", .string(identity.scopeList)),
                    ("client_id", .string(claims.clientID)),
                    ("username", .string(user.name)),
                    ("token_type", "Bearer"),
                    ("exp", .integer(claims.expiresAt)),
                    ("iat", .integer(claims.issuedAt)),
                    ("sub", .string(claims.subject)),
                    ("aud", .string(claims.audience)),
                    ("iss", .string(claims.issuer)),
                    ("jti", .string(claims.tokenID)),
                ])))
    }

    /// The claims of a live token this gateway signed; nil for anything else
    /// (an expired token needs no revocation: it fails on `exp` already).
    private func signedClaims(_ token: String, snapshot: PolicySnapshot) -> AccessToken? {
        guard token.utf8.count <= PresentedCredential.maxTokenBytes else { return nil }
        return try? snapshot.grants.accessTokens.verify(token)
    }
}
