/// Verifies Connect JWTs (app → site) bound to one request by `qsh` (docs/protocols.md §1).
///
/// The order is the reference libraries': decode without trusting, require
/// `iss`, look the app's key up by `iss`, verify the signature, check times,
/// then compare the `qsh` with the received request's, in constant time.
public struct ConnectJWTVerifier: Sendable {
    /// Finds the HS256 key of the app whose key is `issuer`, or nil for an unknown app.
    public typealias KeyLookup = @Sendable (_ issuer: String) -> JWTKey?

    /// The path of the site's `baseUrl`, removed before the canonical path is formed.
    public var basePath: String
    /// Seconds of clock disagreement tolerated (Java allows 30 either way).
    public var clockSkew: Int64
    /// Longest accepted `exp - iat` (`connectJwtMax`, 3600 s by default).
    public var maxLifetime: Int64
    public var limits: TokenLimits
    let lookup: KeyLookup

    public init(
        basePath: String = "", clockSkew: Int64 = 30, maxLifetime: Int64 = 3600,
        limits: TokenLimits = .standard, lookup: @escaping KeyLookup
    ) {
        self.basePath = basePath
        self.clockSkew = clockSkew
        self.maxLifetime = maxLifetime
        self.limits = limits
        self.lookup = lookup
    }

    /// Verifies `token` for the request it came with.
    /// - Parameters:
    ///   - rawPath: the request path as received (not decoded), without the query.
    ///   - rawQuery: the query as received, without `?` (the `jwt` parameter may still be in it).
    ///   - allowContextQSH: accept the literal `context-qsh` (only on routes that say so).
    ///   - now: the time the token's `iat`, `exp` and lifetime are checked at, in seconds since the epoch.
    @inlinable
    public func verify(
        _ token: some StringProtocol, method: String, rawPath: some StringProtocol,
        rawQuery: some StringProtocol, allowContextQSH: Bool = false,
        now: Int64 = UnixTime.now()
    ) throws(JWTError) -> ConnectClaims {
        // Inlined so the gateway's concrete string types meet the non-generic code below.
        try verify(
            substring: Substring(token), method: method, rawPath: Substring(rawPath), rawQuery: Substring(rawQuery),
            allowContextQSH: allowContextQSH, now: now)
    }

    @usableFromInline
    func verify(
        substring token: Substring, method: String, rawPath: Substring, rawQuery: Substring,
        allowContextQSH: Bool, now: Int64
    ) throws(JWTError) -> ConnectClaims {
        if let claims = try verifyCommonCase(
            token, method: method, rawPath: rawPath, rawQuery: rawQuery, allowContextQSH: allowContextQSH, now: now)
        {
            return claims
        }
        return try verifyInFull(
            token, method: method, rawPath: rawPath, rawQuery: rawQuery, allowContextQSH: allowContextQSH, now: now)
    }

    /// Every check, in the references' order, each refusal with its own code and
    /// message: the path of every token the common case does not take.
    func verifyInFull(
        _ token: Substring, method: String, rawPath: Substring, rawQuery: Substring,
        allowContextQSH: Bool, now: Int64
    ) throws(JWTError) -> ConnectClaims {
        let jws = try CompactJWS(parsingSubstring: token, limits: limits)
        let claims = JWTClaims(jws.claims)
        guard let issuer = try claims.issuer() else {
            throw JWTError(.missingClaim, "a Connect JWT needs \"iss\", the app key")
        }
        guard let key = lookup(issuer) else {
            throw JWTError(.unknownIssuer, "no app has the key \"\(JWSHeader.clip(issuer))\"")
        }
        _ = try JWTVerifier.verifySignature(of: jws, key: key)
        var rules = ClaimRules()
        rules.clockSkew = clockSkew
        rules.requireIssuedAt = true
        rules.maxLifetime = maxLifetime
        try rules.check(header: jws.header, claims: claims, now: now)
        let isContext = try checkQueryStringHash(
            claims, method: method, rawPath: rawPath, rawQuery: rawQuery,
            allowContextQSH: allowContextQSH)
        return ConnectClaims(issuer: issuer, claims: claims, isContextToken: isContext)
    }

    /// Compares the token's `qsh` with the request's; returns whether it is a context token.
    private func checkQueryStringHash(
        _ claims: JWTClaims, method: String, rawPath: Substring,
        rawQuery: Substring, allowContextQSH: Bool
    ) throws(JWTError) -> Bool {
        guard let claimed = try claims.string("qsh") else {
            throw JWTError(.missingClaim, "a Connect JWT needs \"qsh\", the hash of the request it was made for")
        }
        if claimed == QueryStringHash.context {
            guard allowContextQSH else {
                throw JWTError(
                    .contextQSHNotAllowed, "a context token (qsh \"context-qsh\") is not accepted on this route")
            }
            return true
        }
        guard
            try CanonicalForm.queryStringHash(
                claimed, matchesMethod: method, rawPath: rawPath, rawQuery: rawQuery,
                basePath: basePath)
        else {
            // Only a refusal pays for the readable canonical form.
            let canonical = try CanonicalRequest(
                method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)
            throw JWTError(
                .qshMismatch, "the qsh does not match this request; its canonical form here is \"\(canonical)\"")
        }
        return false
    }
}

/// The `qsh` literals.
public enum QueryStringHash {
    /// The `qsh` of a context token: not bound to one request (docs/protocols.md §1).
    public static let context = "context-qsh"
}

/// The claims of a verified Connect JWT. `sub` does not change who acts: a
/// Connect JWT always acts as the app's own user.
public struct ConnectClaims: Sendable {
    /// The app key.
    public let issuer: String
    /// Whether the token carried the literal `context-qsh`.
    public let isContextToken: Bool
    private let storage: Storage

    /// Claims read in full, or where the verified payload segment is in the token
    /// (UTF-8 offsets), read only when asked: the gateway needs `issuer` alone, so
    /// the common case builds no `JSONObject`.
    private enum Storage: Sendable {
        case parsed(JWTClaims)
        case payload(token: Substring, range: Range<Int>)
    }

    init(issuer: String, claims: JWTClaims, isContextToken: Bool) {
        self.issuer = issuer
        self.isContextToken = isContextToken
        self.storage = .parsed(claims)
    }

    /// For a token whose payload segment, at UTF-8 offsets `payload` of `token`, has
    /// been verified and read as a flat object.
    init(issuer: String, token: Substring, payload: Range<Int>, isContextToken: Bool) {
        self.issuer = issuer
        self.isContextToken = isContextToken
        self.storage = .payload(token: token, range: payload)
    }

    /// Every claim, as sent.
    public var claims: JWTClaims {
        switch storage {
        case .parsed(let claims):
            return claims
        case .payload(let token, let range):
            // These bytes were decoded and read once already, so this cannot fail.
            let object = try? token.utf8.withContiguousBytes { (bytes) throws(JWTError) in
                try CompactJWS.decodeObject(
                    UnsafeBufferPointer(rebasing: bytes[range]), segment: "payload", notObject: .claimsNotObject)
            }
            guard let object else { preconditionFailure("the claims of a verified Connect JWT no longer parse") }
            return JWTClaims(object)
        }
    }
}
