extension JWTKey {
    /// A key from a JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2).
    ///
    /// kty "RSA" (n, e, and for a private key d with optional p, q, dp, dq, qi),
    /// "EC" (crv, x, y[, d]), "OKP" (crv "Ed25519", x[, d]) or "oct" (k). If
    /// `algorithm` is nil the JWK's "alg" must name one; if both are given they
    /// must agree. A "use" other than "sig" is refused; "kid" becomes `keyID`.
    /// - Throws: `invalidKey` for a malformed or unsupported JWK;
    ///   `keyAlgorithmMismatch` when the key or its "alg" does not fit `algorithm`.
    public static func jwk(_ jwk: JSONValue, algorithm: JWSAlgorithm? = nil) throws(JWTError) -> JWTKey {
        let members = try JWKMembers(jwk)
        let algorithm = try pinnedAlgorithm(members, requested: algorithm)
        if let use = try members.string("use"), use != "sig" {
            throw JWTError(
                .invalidKey, "the JWK is for \"use\": \"\(use)\"; only signature keys (\"sig\") are accepted")
        }
        let keyID = try members.string("kid")
        guard let kty = try members.string("kty") else {
            throw JWTError(.invalidKey, "the JWK has no \"kty\" (expected RSA, EC, OKP or oct)")
        }
        switch kty {
        case "oct":
            let secret = try members.requiredBytes("k", for: kty)
            return try .secret(secret, algorithm: algorithm, keyID: keyID)
        case "RSA", "EC", "OKP":
            guard algorithm.family != .hmac else {
                throw JWTError(.keyAlgorithmMismatch, "\(algorithm.rawValue) needs an \"oct\" JWK, not \"\(kty)\"")
            }
            let key = try AsymmetricKey(jwk: members, kty: kty)
            try key.check(for: algorithm)
            return JWTKey(algorithm: algorithm, keyID: keyID, material: .asymmetric(key))
        default:
            throw JWTError(.invalidKey, "JWK kty \"\(kty)\" is not supported; expected RSA, EC, OKP or oct")
        }
    }

    /// The algorithm the key is pinned to: the caller's, the JWK's "alg", or both when they agree.
    private static func pinnedAlgorithm(
        _ members: JWKMembers, requested: JWSAlgorithm?
    ) throws(JWTError) -> JWSAlgorithm {
        let named = try members.string("alg")
        var declared: JWSAlgorithm?
        if let named {
            guard let algorithm = JWSAlgorithm(rawValue: named) else {
                throw JWTError(.invalidKey, "JWK alg \"\(named)\" is not a supported JWS algorithm")
            }
            declared = algorithm
        }
        switch (requested, declared) {
        case (let requested?, let declared?) where requested != declared:
            throw JWTError(
                .keyAlgorithmMismatch,
                "the JWK says alg \"\(declared.rawValue)\" but \(requested.rawValue) was asked for")
        case (let algorithm?, _), (nil, let algorithm?):
            return algorithm
        case (nil, nil):
            throw JWTError(.invalidKey, "the JWK has no \"alg\"; a key must be pinned to one algorithm, so give it one")
        }
    }

    /// The public JWK: kty with n/e or crv/x(/y), "alg", "use": "sig", and "kid"
    /// when set. Nil for HMAC keys, whose only form is the secret.
    public func publicJWK() -> JSONValue? {
        guard case .asymmetric(let key) = material, var object = key.publicJWKMembers() else { return nil }
        object["alg"] = .string(algorithm.rawValue)
        object["use"] = "sig"
        if let keyID { object["kid"] = .string(keyID) }
        return .object(object)
    }
}
