import JWT
import Policy

/// Connect JWTs (docs/protocols.md §1): HS256 with the app's shared secret, bound
/// to the request by `qsh`; the request acts as the app user with the app's scopes.
struct ConnectJWTAuthentication: Sendable {
    func authenticate(
        _ token: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) throws(GatewayError) -> Authenticated {
        let claims: ConnectClaims
        do {
            // `context-qsh` is let through here; the decision refuses it unless the matched route allows it.
            claims = try snapshot.connectVerifier.verify(
                token, method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery ?? "",
                allowContextQSH: true)
        } catch {
            throw GatewayError(error, scheme: .jwt)
        }
        do {
            let identity = try snapshot.policy.identity(for: .connectJWT, appKey: claims.issuer, accountId: nil)
            return Authenticated(identity: identity, isContextToken: claims.isContextToken)
        } catch {
            throw GatewayError(error, scheme: .jwt)
        }
    }
}
