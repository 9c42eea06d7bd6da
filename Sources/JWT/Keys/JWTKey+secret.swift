extension JWTKey {
    /// An HMAC key from a shared secret, for HS256, HS384 or HS512.
    ///
    /// Refuses an empty secret, and a secret that is PEM text, an SSH public key or
    /// a JSON document (a JWK): that is the key-confusion mistake of handing a
    /// public key to an HMAC verifier, after which anyone holding the public key
    /// could forge tokens (compare PyJWT and jwt-kit).
    /// - Throws: `keyAlgorithmMismatch` if `algorithm` is not HS*; `invalidKey` for a refused secret.
    public static func secret<Bytes: Collection>(
        _ bytes: Bytes, algorithm: JWSAlgorithm = .hs256, keyID: String? = nil
    ) throws(JWTError) -> JWTKey where Bytes.Element == UInt8 {
        guard algorithm.family == .hmac else {
            throw JWTError(
                .keyAlgorithmMismatch,
                "a shared secret can only be used with HS256, HS384 or HS512, not \(algorithm.rawValue)")
        }
        let secret = Array(bytes)
        guard !secret.isEmpty else {
            throw JWTError(.invalidKey, "the HMAC secret is empty")
        }
        if let kind = SecretScreen.keyLikeContent(secret) {
            throw JWTError(
                .invalidKey,
                "the HMAC secret is \(kind); load asymmetric keys with JWTKey.pem or JWTKey.jwk, never as a shared secret"
            )
        }
        let key = try HMACKey(secret: secret, digest: algorithm.digest)
        return JWTKey(algorithm: algorithm, keyID: keyID, material: .secret(key))
    }
}

/// Recognises secrets that are really asymmetric keys or key documents.
enum SecretScreen {
    private static let sshPrefixes = ["ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"]

    /// What the secret looks like, when it looks like a key rather than a secret.
    static func keyLikeContent(_ secret: [UInt8]) -> String? {
        let text = String(decoding: secret, as: UTF8.self)
        if text.contains("-----BEGIN ") {
            return "PEM text"
        }
        let trimmed = text.drop(while: { $0.isWhitespace })
        if sshPrefixes.contains(where: { trimmed.hasPrefix($0) }) {
            return "an SSH public key"
        }
        if trimmed.hasPrefix("{"), let document = try? JSONValue.parse(Array(trimmed.utf8)), document.objectValue != nil
        {
            return "a JSON document (a JWK?)"
        }
        return nil
    }
}
