import Grants
import JWT
import Logging
import Policy
import Scopes

/// What the gateway's grants and Bearer tokens need at run time: the store,
/// the signing key, the in-memory revocation list, the caches of verified
/// tokens and credentials and the audit writer. Built once at start; shared by the token
/// endpoints and the proxy.
final class GrantServices: Sendable {
    let store: Store
    let signingKey: JWTKey
    let revocations: RevocationList
    let tokenCache = VerifiedTokenCache()
    /// API tokens the store vouched for (`GrantServices+credentials.swift`).
    let apiTokens = VerifiedCredentialCache<APITokenRecord>()
    /// OAuth 1.0a access tokens the store vouched for.
    let oauth1Tokens = VerifiedCredentialCache<OAuth1TokenRecord>()
    let audit: AuditWriter
    let metrics: GatewayMetrics?

    init(store: Store, signingKey: JWTKey, revocations: RevocationList, metrics: GatewayMetrics?, logger: Logger) {
        self.store = store
        self.signingKey = signingKey
        self.revocations = revocations
        self.metrics = metrics
        self.audit = AuditWriter(store: store, metrics: metrics, logger: logger)
    }

    /// Opens what the store holds for this gateway: the signing key and the live revocations.
    static func start(
        store: Store, settings: GatewaySettings, folder: String, metrics: GatewayMetrics?, logger: Logger
    ) async throws -> GrantServices {
        let key = try await SigningKeys.load(settings: settings.accessTokens, folder: folder, store: store)
        let revocations = RevocationList()
        let started = ContinuousClock.now
        revocations.insert(try await store.liveRevocations())
        revocations.markSynced(at: started)
        return GrantServices(store: store, signingKey: key, revocations: revocations, metrics: metrics, logger: logger)
    }

    /// The public keys that verify access tokens, for `/.well-known/jwks.json`.
    var publishedKeys: [JWTKey] { [signingKey] }

    /// Verifies an access token's signature (or finds it verified in the cache),
    /// then its times and revocation. The app and the user are the caller's to check.
    func verifiedAccessToken(
        _ token: Substring, policy: CompiledPolicy, verifier: AccessTokenVerifier, now: Int64 = UnixTime.now()
    ) throws(GatewayError) -> AccessToken {
        try verifiedEntry(token, policy: policy, verifier: verifier, now: now).claims
    }

    /// `verifiedAccessToken`, with the identity the cache holds for the token, if any.
    private func verifiedEntry(
        _ token: Substring, policy: CompiledPolicy, verifier: AccessTokenVerifier, now: Int64
    ) throws(GatewayError) -> VerifiedTokenCache.Entry {
        let settings = policy.document.gateway
        let entry: VerifiedTokenCache.Entry
        if let cached = tokenCache.lookup(token, issuer: settings.baseUrl) {
            entry = cached
            guard entry.claims.expiresAt + Int64(settings.clockSkewSeconds) > now else {
                throw GatewayError(.expired, "the access token has expired", scheme: .bearer)
            }
        } else {
            let claims: AccessToken
            do {
                claims = try verifier.verify(token, now: now)
            } catch {
                throw GatewayError(error, scheme: .bearer)
            }
            entry = tokenCache.insert(token, claims: claims, issuer: settings.baseUrl)
        }
        guard !revocations.contains(entry.claims) else {
            throw GatewayError(.tokenRevoked, "the access token has been revoked", scheme: .bearer)
        }
        return entry
    }

    /// Revokes one token here at once and, through the store, on every gateway sharing it.
    func revoke(_ claims: AccessToken, reason: String) async throws(StoreError) {
        try await store.revokeToken(id: claims.tokenID, expiresAt: claims.expiresAt, reason: reason)
        revocations.insert([Revocation(tokenID: claims.tokenID, expiresAt: claims.expiresAt)])
    }
}

extension GrantServices {
    /// Who a Bearer access token acts as now, and its claims: the token checks of
    /// `verifiedAccessToken`, then the app enabled, the user active and the token's
    /// scopes as far as the app still holds them. The proxy, introspection and
    /// accessible-resources all ask this, so they cannot disagree on a token.
    /// The identity is formed once a token and policy `generation` and kept in
    /// the token cache; a reload forms it again.
    func bearerIdentity(
        _ token: Substring, policy: CompiledPolicy, generation: Int, verifier: AccessTokenVerifier
    ) throws(GatewayError) -> (AccessToken, Identity) {
        let entry = try verifiedEntry(token, policy: policy, verifier: verifier, now: UnixTime.now())
        let claims = entry.claims
        if let formed = entry.formed, formed.generation == generation { return (claims, formed.identity) }
        let kind: CredentialKind = claims.grant == .jwtBearer ? .jwtBearer : .authorizationCode
        do {
            let identity = try policy.identity(
                for: kind, appKey: claims.appKey, accountId: claims.subject,
                requestedScopes: ScopeSet(claims.scopes.map { Scope($0) }))
            tokenCache.remember(identity, generation: generation, for: token)
            return (claims, identity)
        } catch {
            throw GatewayError(error, scheme: .bearer)
        }
    }
}
