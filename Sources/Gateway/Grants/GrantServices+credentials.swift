import Grants
import JWT

/// API tokens and OAuth 1.0a access tokens on the proxy path: answered from memory
/// when the store vouched for them recently (`VerifiedCredentialCache`, docs/links.md),
/// and revoked here at once when this gateway revokes them.
extension GrantServices {
    /// The live API token `token`, from memory or the store; nil when it is unknown or revoked.
    /// A refusal is never kept: the next request asks the store again.
    func liveAPIToken(_ token: String) async throws(StoreError) -> APITokenRecord? {
        if let cached = apiTokens.lookup(token, revocations: revocations) { return cached }
        let started = ContinuousClock.now
        guard let record = try await store.apiToken(token) else { return nil }
        let revocationID = RevokedCredential.apiToken(id: record.id)
        // Revoked while the store was read: the list already knows.
        guard !revocations.contains(revocationID) else { return nil }
        apiTokens.insert(token, value: record, revocationID: revocationID, expiresAt: nil, verifiedAt: started)
        return record
    }

    /// The OAuth 1.0a access token `token`, issued to `consumerKey`, live at `now`: from
    /// memory or the store.
    /// - Throws: `OAuth1Problem` (`token_rejected`, `token_revoked`, `token_expired`), `StoreError`.
    func liveOAuth1AccessToken(
        _ token: String, consumerKey: String, now: Int64 = UnixTime.now()
    ) async throws -> OAuth1TokenRecord {
        if let cached = oauth1Tokens.lookup(token, revocations: revocations, unixNow: now) {
            guard cached.consumerKey == consumerKey else { throw Self.notIssued }
            return cached
        }
        let started = ContinuousClock.now
        guard let record = try await store.oauth1Token(token), record.kind == .access,
            record.consumerKey == consumerKey
        else { throw Self.notIssued }
        let revocationID = RevokedCredential.oauth1(token: token)
        guard !record.revoked, !revocations.contains(revocationID) else {
            throw OAuth1Problem(.tokenRevoked, "the access token has been revoked")
        }
        guard record.expiresAt > now else { throw OAuth1Problem(.tokenExpired, "the access token has expired") }
        oauth1Tokens.insert(
            token, value: record, revocationID: revocationID, expiresAt: record.expiresAt, verifiedAt: started)
        return record
    }

    private static var notIssued: OAuth1Problem {
        OAuth1Problem(.tokenRejected, "the access token is not one this site issued to this consumer")
    }

    /// Renews an OAuth 1.0a access token (`Store.renewAccessToken`); the old one is
    /// refused here at once, and by the other gateways through the revocation list.
    func renewAccessToken(
        _ token: String, sessionHandle: String, consumerKey: String,
        makeGrant: @escaping @Sendable (_ accountId: String, _ sessionExpiresAt: Int64) -> OAuth1AccessGrant
    ) async throws(StoreError) -> Result<OAuth1AccessGrant, OAuth1Problem> {
        let result = try await store.renewAccessToken(
            token, sessionHandle: sessionHandle, consumerKey: consumerKey, makeGrant: makeGrant)
        if case .success(let grant) = result {
            // The old token expires no later than its session.
            revocations.insert([
                Revocation(tokenID: RevokedCredential.oauth1(token: token), expiresAt: grant.sessionExpiresAt)
            ])
        }
        return result
    }

    /// Revokes the user's application-link access tokens of the app (`/account/apps`):
    /// here at once, elsewhere through the revocation list. Returns how many.
    @discardableResult
    func revokeOAuth1(accountId: String, appKey: String) async throws(StoreError) -> Int {
        let revoked = try await store.revokeOAuth1Tokens(accountId: accountId, appKey: appKey)
        revocations.insert(revoked)
        return revoked.count
    }
}
