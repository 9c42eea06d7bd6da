internal import COpenSSL

extension JWTKey {
    /// A fresh key for `algorithm`: a random 64-byte secret for HS*, RSA 2048 for
    /// RS* and PS*, the algorithm's curve for ES*, Ed25519 for EdDSA.
    /// - Throws: `cryptoFailure` if OpenSSL cannot generate the key.
    public static func generate(_ algorithm: JWSAlgorithm, keyID: String? = nil) throws(JWTError) -> JWTKey {
        let pkey: OpaquePointer
        switch algorithm.family {
        case .hmac:
            var secret = [UInt8](repeating: 0, count: 64)
            guard RAND_bytes(&secret, Int32(secret.count)) == 1 else {
                throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL's random generator failed")
            }
            return try .secret(secret, algorithm: algorithm, keyID: keyID)
        case .rsaPKCS1, .rsaPSS:
            pkey = try generateKey(type: "RSA") { EVP_PKEY_CTX_set_rsa_keygen_bits($0, 2048) }
        case .ecdsa:
            let curve = EllipticCurve(for: algorithm)!
            pkey = try generateKey(type: "EC") { EVP_PKEY_CTX_set_group_name($0, curve.openSSLName) }
        case .edDSA:
            pkey = try generateKey(type: "ED25519") { _ in 1 }
        }
        let key = AsymmetricKey(taking: pkey, hasPrivateKey: true)
        try key.check(for: algorithm)
        return JWTKey(algorithm: algorithm, keyID: keyID, material: .asymmetric(key))
    }

    private static func generateKey(type: String, configure: (OpaquePointer) -> Int32) throws(JWTError) -> OpaquePointer
    {
        try OpenSSLScope.withKeyContext(named: type) { (context) throws(JWTError) -> OpaquePointer in
            var pkey: OpaquePointer?
            guard EVP_PKEY_keygen_init(context) == 1, configure(context) == 1,
                EVP_PKEY_generate(context, &pkey) == 1, let pkey
            else {
                throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not generate a \(type) key")
            }
            return pkey
        }
    }
}
