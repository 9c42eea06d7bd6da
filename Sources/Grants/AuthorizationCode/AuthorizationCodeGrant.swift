import JWT

/// A 3LO client as the policy says now (docs/policies.md §4, `oauth2`), once authenticated.
public struct ThreeLeggedClient: Sendable {
    public let appKey: String
    public let clientID: String
    public let isPublic: Bool
    /// The app's `oauth2.scopes` now: a token never holds more.
    public let scopes: [String]

    public init(appKey: String, clientID: String, isPublic: Bool, scopes: [String]) {
        self.appKey = appKey
        self.clientID = clientID
        self.isPublic = isPublic
        self.scopes = scopes
    }
}

/// The authorization code and refresh token grants (RFC 6749 §4.1.3 and §6,
/// docs/protocols.md §4): codes are single use and bound to the client, the redirect
/// URI and the PKCE challenge; refresh tokens rotate on every use.
public struct AuthorizationCodeGrant: Sendable {
    public static let offlineAccess = "offline_access"

    let issuer: AccessTokenIssuer
    let store: Store
    let accessLifetime: Int64
    let refreshPolicy: RefreshPolicy
    /// Told of tokens revoked by a replayed code or a reused refresh token, so this gateway refuses them at once.
    let onRevoked: @Sendable ([Revocation]) -> Void

    public init(
        issuer: AccessTokenIssuer, store: Store, accessLifetime: Int64, refreshPolicy: RefreshPolicy,
        onRevoked: @escaping @Sendable ([Revocation]) -> Void = { _ in }
    ) {
        self.issuer = issuer
        self.store = store
        self.accessLifetime = accessLifetime
        self.refreshPolicy = refreshPolicy
        self.onRevoked = onRevoked
    }

    /// `grant_type=authorization_code`.
    /// - Parameters:
    ///   - policy: the policy in force: the user must still be active in it.
    ///   - now: the time of the request (Unix seconds): the code's expiry and the tokens' lifetimes count from it.
    public func exchange(
        code: String, redirectURI: String?, codeVerifier: String?, client: ThreeLeggedClient,
        now: Int64 = UnixTime.now(),
        policy: some GrantPolicy
    ) async throws -> TokenGrantResult {
        let minted = MintedTokens()
        let (outcome, rows) = try await store.redeemCode(
            code, now: now,
            check: { record in
                do throws(OAuthError) {
                    try Self.check(record, redirectURI: redirectURI, codeVerifier: codeVerifier, client: client)
                } catch {
                    return error
                }
                return policy.userStatus(accountId: record.accountId) == .active
                    ? nil : OAuthError(.invalidGrant, "the user \(record.accountId) is inactive")
            },
            mint: { record in
                try minted.mint(
                    issuer: issuer, family: record.familyID, grantTag: record.grantTag, subject: record.accountId,
                    client: client, scopes: record.scopes.filter(client.scopes.contains), lifetime: accessLifetime,
                    now: now)
            })
        switch outcome {
        case .issued: return try minted.result(rows, now: now)
        case .replayed(let revoked):
            onRevoked(revoked)
            throw OAuthError(
                .invalidGrant,
                "the authorization code has already been used; every token issued from it is revoked"
            )
        case .expired: throw OAuthError(.invalidGrant, "the authorization code has expired")
        case .unknown: throw OAuthError(.invalidGrant, "the authorization code is not one this gateway issued")
        case .refused(let error): throw error
        }
    }

    /// `grant_type=refresh_token`: a rotated refresh token and a new access token,
    /// with the family's scopes (narrowed by `scope`) as far as the app still holds them.
    /// - Parameters:
    ///   - now: the time of the request (Unix seconds): the family's inactivity, absolute
    ///     limit and reuse grace, and the new tokens' lifetimes, count from it.
    ///   - policy: the policy in force: the user must still be active in it.
    public func refresh(
        token: String, scope: String?, client: ThreeLeggedClient, now: Int64 = UnixTime.now(),
        policy: some GrantPolicy
    ) async throws -> TokenGrantResult {
        let minted = MintedTokens()
        let requested = scope.map { $0.split(separator: " ").map(String.init) }
        let (outcome, rows) = try await store.rotateRefreshToken(
            token, policy: refreshPolicy, now: now,
            check: { family in
                guard family.clientID == client.clientID else {
                    return OAuthError(.invalidGrant, "the refresh token was issued to another client")
                }
                guard policy.userStatus(accountId: family.accountId) == .active else {
                    return OAuthError(.invalidGrant, "the user \(family.accountId) is inactive")
                }
                if let requested, let extra = requested.first(where: { !family.scopes.contains($0) }) {
                    return OAuthError(
                        .invalidScope, "the scope \(extra.prefix(64)) was not granted to this refresh token")
                }
                return nil
            },
            mint: { family in
                let scopes = (requested ?? family.scopes).filter(client.scopes.contains)
                return try minted.mint(
                    issuer: issuer, family: family.familyID, grantTag: family.grantTag, subject: family.accountId,
                    client: client, scopes: scopes, lifetime: accessLifetime, now: now)
            })
        switch outcome {
        case .rotated: return try minted.result(rows, now: now)
        case .reuseDetected(let revoked):
            onRevoked(revoked)
            throw OAuthError(
                .invalidGrant,
                "the refresh token was already used; its whole family is revoked, with every access token from it")
        case .expired: throw OAuthError(.invalidGrant, "the refresh token has expired")
        case .revoked: throw OAuthError(.invalidGrant, "the refresh token has been revoked")
        case .unknown: throw OAuthError(.invalidGrant, "the refresh token is not one this gateway issued")
        case .refused(let error): throw error
        }
    }

    /// The code's bindings (RFC 6749 §4.1.3, RFC 7636 §4.6).
    static func check(
        _ record: AuthorizationCodeRecord, redirectURI: String?, codeVerifier: String?,
        client: ThreeLeggedClient
    ) throws(OAuthError) {
        guard record.clientID == client.clientID else {
            throw OAuthError(.invalidGrant, "the authorization code was issued to another client")
        }
        guard redirectURI == record.redirectURI else {
            throw OAuthError(.invalidGrant, "redirect_uri must be the one the authorization request used")
        }
        if let challenge = record.codeChallenge {
            guard let codeVerifier else {
                throw OAuthError(.invalidGrant, "code_verifier is required: the request used PKCE")
            }
            guard PKCE.verifies(codeVerifier, challenge: challenge) else {
                throw OAuthError(.invalidGrant, "the code_verifier does not match the code_challenge")
            }
        } else if codeVerifier != nil {
            throw OAuthError(
                .invalidGrant, "code_verifier was sent, but the authorization request had no code_challenge")
        }
    }
}

/// The tokens minted inside a store transaction, for the response after commit:
/// the access token's claims and the refresh token are made inside (the rows need
/// them); the access token is signed only after the commit (`result`), so the
/// signature never runs on the store's write thread, where a batch of grant
/// transactions would otherwise sign one after another (docs/grants.md, "Transactions").
final class MintedTokens: @unchecked Sendable {
    // Written once inside the transaction's closure, read after it returns: never concurrently.
    private var issuer: AccessTokenIssuer?
    private var refreshToken: String?

    func mint(
        issuer: AccessTokenIssuer, family: String, grantTag: String?, subject: String, client: ThreeLeggedClient,
        scopes: [String], lifetime: Int64, now: Int64
    ) throws -> GrantRows {
        let claims = issuer.claims(
            subject: subject, clientID: client.clientID, appKey: client.appKey, grant: .authorizationCode,
            scopes: scopes, lifetime: lifetime, now: now, grantTag: grantTag)
        self.issuer = issuer
        let refresh = scopes.contains(AuthorizationCodeGrant.offlineAccess) ? RefreshToken.make(family: family) : nil
        refreshToken = refresh
        return GrantRows(accessToken: claims, refreshTokenHash: refresh.map(SecretDigest.hex))
    }

    /// The answer: the access token signed now that its row is committed.
    func result(_ rows: GrantRows?, now: Int64) throws -> TokenGrantResult {
        guard let rows, let issuer else { throw OAuthError(.serverError, "no token was minted") }
        return TokenGrantResult(
            accessToken: try issuer.sign(rows.accessToken), claims: rows.accessToken,
            expiresIn: rows.accessToken.expiresIn(now: now), refreshToken: refreshToken)
    }
}
