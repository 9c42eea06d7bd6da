import JWT
import Scopes

/// A token response (RFC 6749 §5.1) before it is written as JSON.
public struct TokenGrantResult: Sendable {
    public let accessToken: String
    public let claims: AccessToken
    public let expiresIn: Int64
    /// Only from the authorization code and refresh grants, when `offline_access` was granted.
    public var refreshToken: String?
    public var scope: String { claims.scopes.joined(separator: " ") }

    public init(accessToken: String, claims: AccessToken, expiresIn: Int64, refreshToken: String? = nil) {
        self.accessToken = accessToken
        self.claims = claims
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
    }
}

/// The JWT bearer grant (RFC 7523, "2LOi", docs/protocols.md §3): a verified assertion
/// becomes an access token acting as the user, with the requested scopes
/// (all the app's when none are asked for). The token's `jti` is derived from the
/// assertion's replay key, so recording the token spends the assertion exactly once.
public struct JWTBearerGrant: Sendable {
    let verifier: BearerAssertionVerifier
    let issuer: AccessTokenIssuer
    let store: Store
    let lifetime: Int64

    public init(verifier: BearerAssertionVerifier, issuer: AccessTokenIssuer, store: Store, lifetime: Int64) {
        self.verifier = verifier
        self.issuer = issuer
        self.store = store
        self.lifetime = lifetime
    }

    /// Exchanges an assertion against `policy` as it is now: the app that signed
    /// it, the scopes it holds (after implication: `WRITE` covers `READ`), and the user.
    /// - Throws: `OAuthError`: `invalid_grant` for a bad or replayed assertion or an
    ///   unknown or inactive user, `unauthorized_client`, `invalid_scope`; a store failure is `StoreError`.
    public func exchange(
        assertion: String, scope: String?, policy: some GrantPolicy, now: Int64 = UnixTime.now()
    ) async throws -> TokenGrantResult {
        let verified = try verifier.verify(assertion, policy: policy, now: now)
        switch policy.userStatus(accountId: verified.accountId) {
        case .active: break
        case .inactive: throw OAuthError(.invalidGrant, "the user \(verified.accountId) is inactive")
        case .unknown: throw OAuthError(.invalidGrant, "no user has the account id \(verified.accountId)")
        }
        if let owner = policy.appKey(ofAppUser: verified.accountId), owner != verified.appKey {
            throw OAuthError(
                .invalidGrant,
                "the account \(verified.accountId) is the app user of \(owner); another app may not act as it")
        }
        let scopes = try Self.grantedScopes(requested: scope, app: policy.appScopes(appKey: verified.appKey))
        let claims = issuer.claims(
            subject: verified.accountId, clientID: verified.clientID, appKey: verified.appKey, grant: .jwtBearer,
            scopes: scopes, lifetime: lifetime, now: now, tokenID: verified.tokenID)
        guard
            try await store.recordExchange(
                replayKey: verified.replayKey, replayExpiresAt: verified.replayExpiresAt,
                token: claims)
        else {
            throw OAuthError(.invalidGrant, "the assertion has already been used; sign a new one for each exchange")
        }
        // Signed once the row is committed, as the 3LO grants do: a replay costs no signature.
        let token = try issuer.sign(claims)
        return TokenGrantResult(accessToken: token, claims: claims, expiresIn: claims.expiresIn(now: now))
    }

    /// The scopes of the token: the requested ones (space-separated, Connect
    /// names are case-insensitive) when the app's scopes cover each, else all
    /// of the app's. `ACT_AS_USER` is what lets the app ask; it is not passed on.
    static func grantedScopes(requested: String?, app: AppScopes) throws(OAuthError) -> [String] {
        let held = app.names.map { $0.uppercased() }.filter { $0 != "ACT_AS_USER" }
        guard let requested, !requested.allSatisfy({ $0 == " " }) else { return held }
        var granted: [String] = []
        for name in requested.split(separator: " ").map({ $0.uppercased() }) where !granted.contains(name) {
            guard name != "ACT_AS_USER", app.covers(name) else {
                throw OAuthError(
                    .invalidScope,
                    "the scope \(name.prefix(64)) is not one of the app's scopes (\(held.joined(separator: " ")))")
            }
            granted.append(name)
        }
        return granted
    }
}
