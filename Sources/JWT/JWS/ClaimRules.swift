/// What a verified token's claims must satisfy, beyond its signature.
///
/// Each rule is a small check with its own error code, run in a fixed order
/// (type, times, lifetime, issuer, audience, subject), so a caller can tell a
/// user exactly what to fix.
public struct ClaimRules: Sendable {
    /// Seconds of disagreement between clocks tolerated on `exp`, `nbf` and `iat`.
    public var clockSkew: Int64 = 30
    /// Refuse a token without `exp`.
    public var requireExpiration: Bool = true
    /// Refuse a token without `iat`.
    public var requireIssuedAt: Bool = false
    /// Longest accepted `exp - iat` (or `exp - now` without `iat`), in seconds.
    public var maxLifetime: Int64?
    /// Accepted `iss` values; nil accepts any issuer.
    public var issuers: Set<String>?
    /// Accepted audiences: the token's `aud` must name at least one; nil skips the check.
    public var audiences: Set<String>?
    /// The expected `sub`; nil accepts any subject.
    public var subject: String?
    /// The expected header `typ`, compared case-insensitively with an optional
    /// `application/` prefix (RFC 7515 §4.1.9, RFC 8725 §3.11); nil skips the check.
    public var type: String?

    public init() {}

    /// Applies every rule to a token's header and claims at `now` (seconds since the epoch).
    public func check(header: JWSHeader, claims: JWTClaims, now: Int64) throws(JWTError) {
        try checkType(header)
        try checkTimeClaims(claims, now: now)
        try checkIssuer(claims)
        try checkAudience(claims)
        try checkSubject(claims)
    }

    func checkType(_ header: JWSHeader) throws(JWTError) {
        guard let expected = type else { return }
        guard let actual = header.type, Self.normalisedType(actual) == Self.normalisedType(expected) else {
            throw JWTError(.typeMismatch, "the header \"typ\" must be \"\(expected)\"")
        }
    }

    func checkTimeClaims(_ claims: JWTClaims, now: Int64) throws(JWTError) {
        let expiresAt = try claims.expiresAt()
        let issuedAt = try claims.issuedAt()
        if expiresAt == nil && requireExpiration {
            throw JWTError(.missingClaim, "the token has no \"exp\"; tokens without an expiry are refused")
        }
        if issuedAt == nil && requireIssuedAt {
            throw JWTError(.missingClaim, "the token has no \"iat\"")
        }
        if let expiresAt, now > expiresAt.addingClamped(clockSkew) {
            throw JWTError(.expired, "the token expired \(now - expiresAt) s ago (clock skew allowed: \(clockSkew) s)")
        }
        if let notBefore = try claims.notBefore(), now.addingClamped(clockSkew) < notBefore {
            throw JWTError(.notYetValid, "the token is not valid for another \(notBefore - now) s (\"nbf\")")
        }
        if let issuedAt, now.addingClamped(clockSkew) < issuedAt {
            throw JWTError(
                .issuedInFuture,
                "the token claims to be issued \(issuedAt - now) s in the future (\"iat\"); check the clock")
        }
        try checkLifetime(expiresAt: expiresAt, issuedAt: issuedAt, now: now)
    }

    private func checkLifetime(expiresAt: Int64?, issuedAt: Int64?, now: Int64) throws(JWTError) {
        guard let maxLifetime, let expiresAt else { return }
        let start = issuedAt ?? now
        let lifetime = expiresAt.subtractingClamped(start)
        if lifetime > maxLifetime {
            throw JWTError(
                .lifetimeTooLong,
                "the token lives \(lifetime) s (\"exp\" - \"iat\"), over the limit of \(maxLifetime) s")
        }
    }

    func checkIssuer(_ claims: JWTClaims) throws(JWTError) {
        guard let issuers else { return }
        guard let issuer = try claims.issuer() else {
            throw JWTError(.missingClaim, "the token has no \"iss\"")
        }
        if !issuers.contains(issuer) {
            throw JWTError(.issuerMismatch, "the issuer \"\(JWSHeader.clip(issuer))\" is not accepted here")
        }
    }

    func checkAudience(_ claims: JWTClaims) throws(JWTError) {
        guard let audiences else { return }
        guard let audience = try claims.audience() else {
            throw JWTError(.missingClaim, "the token has no \"aud\"")
        }
        if !audience.contains(where: audiences.contains) {
            let accepted = audiences.sorted().map { "\"\($0)\"" }.joined(separator: " or ")
            throw JWTError(.audienceMismatch, "the token's \"aud\" must name \(accepted)")
        }
    }

    func checkSubject(_ claims: JWTClaims) throws(JWTError) {
        guard let subject else { return }
        guard let actual = try claims.subject() else {
            throw JWTError(.missingClaim, "the token has no \"sub\"")
        }
        if actual != subject {
            throw JWTError(.subjectMismatch, "the token's \"sub\" is not the expected subject")
        }
    }

    private static func normalisedType(_ type: String) -> String {
        let lower = type.lowercased()
        return lower.hasPrefix("application/") ? String(lower.dropFirst("application/".count)) : lower
    }
}

extension Int64 {
    /// Addition that saturates, so a hostile `exp` near Int64.max cannot overflow.
    func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func subtractingClamped(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
