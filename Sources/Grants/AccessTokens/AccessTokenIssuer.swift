import JWT

/// Signs access tokens (RFC 9068: `typ` `at+jwt`, ES256 by default) with the
/// gateway's key, whose `kid` the header carries and `/.well-known/jwks.json`
/// publishes. The key was read once and keeps its signing contexts ready, and the
/// header is encoded once: a token costs its claims and one `EVP_DigestSign`.
public struct AccessTokenIssuer: Sendable {
    public static let type = "at+jwt"

    let signer: JWTSigner
    public let issuer: String

    /// - Throws: `keyCannotSign` for a public-only key, `invalidKey` for a key without a `kid`.
    public init(key: JWTKey, issuer: String) throws(JWTError) {
        guard key.canSign else {
            throw JWTError(
                .keyCannotSign, "the access-token key holds only a public key; issuing needs the private key")
        }
        guard key.keyID != nil else {
            throw JWTError(.invalidKey, "the access-token key needs a kid, so clients can pick it from the JWKS")
        }
        self.signer = JWTSigner(key: key, type: Self.type)
        self.issuer = issuer
    }

    /// A new token for `subject`, valid `lifetime` seconds from `now`, with a new `jti`.
    public func issue(
        subject: String, clientID: String, appKey: String, grant: AccessToken.Grant, scopes: [String],
        lifetime: Int64, now: Int64 = UnixTime.now()
    ) throws(JWTError) -> (token: String, claims: AccessToken) {
        let claims = claims(
            subject: subject, clientID: clientID, appKey: appKey, grant: grant, scopes: scopes, lifetime: lifetime,
            now: now)
        return (try sign(claims), claims)
    }

    /// The claims of a new token (a fresh `jti` unless one is given, in time order:
    /// `TimeOrderedID`), not yet signed: a store transaction records them, and the token
    /// is signed after it committed (`sign`). `grantTag`: the tag of the 3LO grant the
    /// token comes from, when the store revokes its tokens by it (`AccessToken.grantTag`).
    public func claims(
        subject: String, clientID: String, appKey: String, grant: AccessToken.Grant, scopes: [String],
        lifetime: Int64, now: Int64 = UnixTime.now(), tokenID: String = TimeOrderedID.make(),
        grantTag: String? = nil
    ) -> AccessToken {
        AccessToken(
            tokenID: tokenID, issuer: issuer, audience: issuer, subject: subject, clientID: clientID,
            appKey: appKey, grant: grant, scopes: scopes, issuedAt: now, expiresAt: now + lifetime,
            grantTag: grantTag)
    }

    /// The compact JWS of `claims`, `typ` `at+jwt`.
    public func sign(_ claims: AccessToken) throws(JWTError) -> String {
        try signer.sign(claims.claims, type: Self.type)
    }
}

/// Verifies the gateway's own access tokens: signature by a key of the JWKS
/// (found by `kid`), `typ` `at+jwt`, issuer and audience the site's `baseUrl`,
/// and the times. Revocation and the live policy are the caller's to check.
public struct AccessTokenVerifier: Sendable {
    let verifier: JWTVerifier

    public init(keys: [JWTKey], issuer: String, clockSkew: Int64 = 30) {
        var rules = ClaimRules()
        rules.clockSkew = clockSkew
        rules.requireIssuedAt = true
        rules.issuers = [issuer]
        rules.audiences = [issuer]
        rules.type = AccessTokenIssuer.type
        var verifier = JWTVerifier(keys: keys, rules: rules)
        // ECDSA's twin (R, n−S) of a signature verifies alike: only the low-S one, which
        // the gateway issues, is accepted, so each token has exactly one text.
        verifier.requiresCanonicalSignature = true
        self.verifier = verifier
    }

    /// - Throws: `JWTError`, `invalidSignature` too for an ECDSA signature whose S
    ///   is over n/2 (`JWTVerifier.requiresCanonicalSignature`).
    public func verify(_ token: some StringProtocol, now: Int64 = UnixTime.now()) throws(JWTError) -> AccessToken {
        try AccessToken(claims: verifier.verify(token, now: now).claims)
    }
}

/// The public half of the signing keys as a JWKS document (RFC 7517 §5), for
/// `/.well-known/jwks.json`.
public enum PublishedKeys {
    public static func document(_ keys: [JWTKey]) -> JSONValue {
        .object(JSONObject([("keys", .array(keys.compactMap { $0.publicJWK() }))]))
    }
}
