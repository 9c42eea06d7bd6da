internal import COpenSSL

extension AsymmetricKey {
    /// Whether `signature` is a valid JWS signature of `input` under `algorithm`.
    /// Any malformed signature is simply invalid.
    func verify(_ signature: [UInt8], input: UnsafeRawBufferPointer, algorithm: JWSAlgorithm) -> Bool {
        var encoded = signature
        if case .ec(let curve) = kind {
            // Only the fixed-width raw form is a JWS ECDSA signature; DER is refused here.
            guard let der = ECDSASignature.der(fromRaw: signature, curve: curve) else { return false }
            encoded = der
        }
        let valid = try? withVerifyContext(algorithm: algorithm) { context in
            encoded.withUnsafeBufferPointer {
                EVP_DigestVerify(context, $0.baseAddress, $0.count, input.baseAddress, input.count) == 1
            }
        }
        if valid != true { ERR_clear_error() }
        return valid == true
    }

    /// Runs `body` with a digest context initialised for verifying with this key
    /// under `algorithm`, padding configured. (Signing keeps its contexts: `DigestSigner`.)
    private func withVerifyContext<T>(
        algorithm: JWSAlgorithm, _ body: (OpaquePointer) throws(JWTError) -> T
    ) throws(JWTError) -> T {
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a digest context")
        }
        defer { EVP_MD_CTX_free(context) }
        // EdDSA signs the message itself (RFC 8037 §3.1): no separate digest.
        let digest = algorithm.family == .edDSA ? nil : algorithm.digest.fetched.pointer
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, pkey) == 1, let keyContext else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not start \(algorithm.rawValue)")
        }
        guard algorithm.family != .rsaPSS || Self.configurePSS(keyContext, algorithm: algorithm) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not configure RSA-PSS for \(algorithm.rawValue)")
        }
        return try body(context)
    }

    /// RFC 7518 §3.5: MGF1 with the same hash as the message digest, and a salt
    /// as long as the digest output, when signing and when verifying (a verifier
    /// that auto-detects the salt length would accept signatures JWS does not).
    static func configurePSS(_ keyContext: OpaquePointer, algorithm: JWSAlgorithm) -> Bool {
        EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, algorithm.digest.fetched.pointer) == 1
    }
}
