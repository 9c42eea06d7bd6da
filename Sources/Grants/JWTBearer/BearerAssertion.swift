import JWT

/// A verified assertion: which app asks to act as which user, and the key that
/// makes it single-use.
public struct VerifiedAssertion: Sendable, Equatable {
    public let appKey: String
    public let clientID: String
    public let accountId: String
    /// `jti` when the assertion has one, else the SHA-256 of the whole assertion
    /// (hex): inserted once into the replay table, so a second use fails.
    public let replayKey: String
    /// When the replay row may be dropped: the assertion's `exp` plus the skew.
    public let replayExpiresAt: Int64

    /// The `jti` of the access token this assertion is exchanged for: derived from the
    /// replay key, so the token row's own key spends the assertion (docs/grants.md,
    /// "Transactions").
    public var tokenID: String { AccessToken.exchangedTokenID(replayKey: replayKey) }
}

/// Checks JWT bearer assertions (RFC 7523, docs/protocols.md §3, docs/policies.md §3):
/// `iss` = `urn:atlassian:connect:clientid:<oauthClientId>`, HS256 with that
/// app's shared secret, `sub` = `urn:atlassian:connect:useraccountid:<id>`,
/// `tnt` = `baseUrl`, `aud` one of the accepted audiences, `iat` and `exp`
/// present and at most `maxLifetime` apart. Replay is the store's to refuse.
public struct BearerAssertionVerifier: Sendable {
    public static let issuerPrefix = "urn:atlassian:connect:clientid:"
    public static let subjectPrefix = "urn:atlassian:connect:useraccountid:"

    let tenant: String
    let audiences: Set<String>
    let maxLifetime: Int64
    let clockSkew: Int64

    /// - Parameters:
    ///   - baseURL: the site's `baseUrl`: the `tnt` required, and with `/oauth2/token` an accepted `aud`.
    ///   - extraAudiences: `assertionAudiences` from `gateway.json`.
    public init(baseURL: String, extraAudiences: [String] = [], maxLifetime: Int64 = 60, clockSkew: Int64 = 30) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        tenant = base
        audiences = Set([base, base + "/", base + "/oauth2/token"] + extraAudiences)
        self.maxLifetime = maxLifetime
        self.clockSkew = clockSkew
    }

    /// Verifies `assertion` with the key of the app `policy` names for its client id.
    public func verify(
        _ assertion: String, policy: some GrantPolicy, now: Int64 = UnixTime.now()
    ) throws(OAuthError) -> VerifiedAssertion {
        // Parsed once: the unverified `iss` picks the app's key, which then verifies the same parse.
        let jws: CompactJWS
        do {
            jws = try CompactJWS(parsing: assertion)
        } catch {
            throw OAuthError(.invalidGrant, "the assertion is not a well-formed JWT: \(error)")
        }
        let clientID = try clientID(issuer: jws.claims["iss"]?.stringValue)
        guard let client = policy.assertionClient(clientID: clientID) else {
            throw OAuthError(.invalidGrant, "no app has the OAuth client id \"\(clip(clientID))\"")
        }
        guard client.enabled else { throw OAuthError(.unauthorizedClient, "the app \(client.appKey) is disabled") }
        guard client.canActAsUser else {
            throw OAuthError(.unauthorizedClient, "the app \(client.appKey) does not hold the ACT_AS_USER scope")
        }
        let verified: VerifiedJWT
        do {
            verified = try JWTVerifier(key: client.key, rules: rules).verify(jws, now: now)
        } catch {
            throw OAuthError(.invalidGrant, "the assertion is not valid: \(error.reason)")
        }
        let claims = verified.claims
        guard (try? claims.string("tnt")).flatMap({ $0.map(trimmedSlash) }) == tenant else {
            throw OAuthError(.invalidGrant, "the assertion's \"tnt\" must be this site, \(tenant)")
        }
        guard let subject = try? claims.subject(), subject.hasPrefix(Self.subjectPrefix),
            subject.count > Self.subjectPrefix.count
        else {
            throw OAuthError(.invalidGrant, "the assertion's \"sub\" must be \(Self.subjectPrefix)<account id>")
        }
        let expiresAt = (try? claims.expiresAt()).flatMap { $0 } ?? now
        let replayKey =
            (try? claims.tokenID()).flatMap { $0 }.map { "jti:\(client.appKey):\($0)" }
            ?? "sha256:" + Hex.lowercase(Digest.sha256.hash(Array(assertion.utf8)))
        return VerifiedAssertion(
            appKey: client.appKey, clientID: clientID, accountId: String(subject.dropFirst(Self.subjectPrefix.count)),
            replayKey: replayKey, replayExpiresAt: expiresAt + clockSkew)
    }

    private var rules: ClaimRules {
        var rules = ClaimRules()
        rules.clockSkew = clockSkew
        rules.requireIssuedAt = true
        rules.maxLifetime = maxLifetime
        rules.audiences = audiences
        return rules
    }

    /// The client id from the unverified `iss` (only to find the key).
    private func clientID(issuer: String?) throws(OAuthError) -> String {
        guard let issuer, issuer.hasPrefix(Self.issuerPrefix), issuer.count > Self.issuerPrefix.count else {
            throw OAuthError(.invalidGrant, "the assertion's \"iss\" must be \(Self.issuerPrefix)<oauthClientId>")
        }
        return String(issuer.dropFirst(Self.issuerPrefix.count))
    }

    private func trimmedSlash(_ text: String) -> String { text.hasSuffix("/") ? String(text.dropLast()) : text }
    private func clip(_ text: String) -> String { text.count > 64 ? String(text.prefix(64)) + "…" : text }
}
