/// Verifies compact JWTs against a fixed set of keys, each pinned to one algorithm.
///
/// The header's `alg` never selects a key type: a key is chosen by `kid` (or,
/// without one, among the keys of the header's algorithm), and the header's
/// algorithm must equal the key's. So an HS256 token signed with an RSA public
/// key's PEM (the classic key-confusion attack) meets an RS256 key and fails.
public struct JWTVerifier: Sendable {
    public let keys: [JWTKey]
    public var rules: ClaimRules
    public var limits: TokenLimits
    /// Accept only the canonical signature of a token (`JWTKey.isCanonical`): for
    /// ECDSA, the low-S one of the two that verify alike. Off by default, so
    /// signatures made elsewhere (published test vectors) still verify.
    public var requiresCanonicalSignature = false

    public init(keys: [JWTKey], rules: ClaimRules = ClaimRules(), limits: TokenLimits = .standard) {
        self.keys = keys
        self.rules = rules
        self.limits = limits
    }

    public init(key: JWTKey, rules: ClaimRules = ClaimRules(), limits: TokenLimits = .standard) {
        self.init(keys: [key], rules: rules, limits: limits)
    }

    /// Parses, verifies the signature, then checks the claims at `now`.
    public func verify(_ token: some StringProtocol, now: Int64 = UnixTime.now()) throws(JWTError) -> VerifiedJWT {
        try verify(try CompactJWS(parsing: token, limits: limits), now: now)
    }

    /// Verifies the signature of a token already parsed, then checks the claims at `now`:
    /// for a caller that read an unverified claim of `jws` to choose this verifier's key
    /// (as `iss` chooses an app's), so the token is parsed once.
    public func verify(_ jws: CompactJWS, now: Int64 = UnixTime.now()) throws(JWTError) -> VerifiedJWT {
        let key = try Self.verifySignature(of: jws, candidates: keys)
        if requiresCanonicalSignature, !key.isCanonical(signature: jws.signature) {
            throw JWTError(.invalidSignature, "the signature is not in its canonical (low-S) form")
        }
        let claims = JWTClaims(jws.claims)
        try rules.check(header: jws.header, claims: claims, now: now)
        return VerifiedJWT(header: jws.header, claims: claims, keyID: key.keyID)
    }

    /// Verifies a parsed token's signature with the right one of `candidates`, and returns that key.
    public static func verifySignature(of jws: CompactJWS, candidates: [JWTKey]) throws(JWTError) -> JWTKey {
        for key in try choose(for: jws.header, among: candidates) where jws.isSigned(by: key) {
            return key
        }
        throw JWTError(.invalidSignature, "the signature does not match the token")
    }

    /// `verifySignature(of:candidates:)` for one candidate, without the arrays:
    /// the Connect verifier's case, where `iss` has already picked the key.
    static func verifySignature(of jws: CompactJWS, key: JWTKey) throws(JWTError) -> JWTKey {
        if let keyID = jws.header.keyID, key.keyID != keyID {
            throw JWTError(.unknownKeyID, "no key has the id \"\(JWSHeader.clip(keyID))\"")
        }
        guard key.algorithm == jws.header.algorithm else {
            // The same refusals, in the same words, as `choose` gives for `[key]`.
            _ = try choose(for: jws.header, among: [key])
            preconditionFailure("choose accepted a key of another algorithm")
        }
        guard jws.isSigned(by: key) else {
            throw JWTError(.invalidSignature, "the signature does not match the token")
        }
        return key
    }

    private static func choose(for header: JWSHeader, among keys: [JWTKey]) throws(JWTError) -> [JWTKey] {
        if let keyID = header.keyID {
            guard let key = keys.first(where: { $0.keyID == keyID }) else {
                throw JWTError(.unknownKeyID, "no key has the id \"\(JWSHeader.clip(keyID))\"")
            }
            guard key.algorithm == header.algorithm else {
                throw JWTError(
                    .algorithmMismatch,
                    "the key \"\(JWSHeader.clip(keyID))\" is for \(key.algorithm.rawValue), not \(header.algorithm.rawValue)"
                )
            }
            return [key]
        }
        let matching = keys.filter { $0.algorithm == header.algorithm }
        guard !matching.isEmpty else {
            let pinned = Set(keys.map(\.algorithm.rawValue)).sorted().joined(separator: ", ")
            throw JWTError(.algorithmMismatch, "\(header.algorithm.rawValue) is not accepted here (expected \(pinned))")
        }
        return matching
    }
}
