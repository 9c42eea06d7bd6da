import Grants
import JWT
import Policy

/// The grant objects of one policy: the access-token issuer and verifier, the
/// JWT bearer and authorization code grants, and the OAuth 1.0a verifier. Built
/// once with the policy's snapshot, not per request; the grants read the policy
/// they were built for through `GrantPolicy`.
struct PolicyGrants: Sendable {
    let services: GrantServices
    let issuer: AccessTokenIssuer
    let accessTokens: AccessTokenVerifier
    let jwtBearer: JWTBearerGrant
    let authorizationCode: AuthorizationCodeGrant
    let oauth1: OAuth1Verifier

    /// - Throws: `JWTError` when the signing key cannot issue tokens (no private key, no `kid`).
    init(policy: CompiledPolicy, services: GrantServices) throws(JWTError) {
        let settings = policy.document.gateway
        let lifetimes = settings.lifetimes
        let issuer = try AccessTokenIssuer(key: services.signingKey, issuer: settings.baseUrl)
        let revocations = services.revocations
        self.services = services
        self.issuer = issuer
        self.accessTokens = AccessTokenVerifier(
            keys: services.publishedKeys, issuer: settings.baseUrl, clockSkew: Int64(settings.clockSkewSeconds))
        self.jwtBearer = JWTBearerGrant(
            verifier: BearerAssertionVerifier(
                baseURL: settings.baseUrl, extraAudiences: settings.assertionAudiences,
                maxLifetime: Int64(lifetimes.assertionMax), clockSkew: Int64(settings.clockSkewSeconds)),
            issuer: issuer, store: services.store, lifetime: Int64(lifetimes.jwtBearerAccessToken))
        self.authorizationCode = AuthorizationCodeGrant(
            issuer: issuer, store: services.store, accessLifetime: Int64(lifetimes.authorizationCodeAccessToken),
            refreshPolicy: RefreshPolicy(
                inactivity: Int64(lifetimes.refreshTokenInactivity), absolute: Int64(lifetimes.refreshTokenAbsolute),
                reuseGrace: Int64(lifetimes.refreshTokenReuseGrace)),
            onRevoked: { revocations.insert($0) })
        self.oauth1 = OAuth1Verifier(store: services.store)
    }
}
