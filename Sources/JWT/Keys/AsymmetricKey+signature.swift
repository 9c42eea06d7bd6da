internal import COpenSSL

extension AsymmetricKey {
    /// The JWS signature of `input` under `algorithm` (already checked to fit the key).
    func sign(_ input: UnsafeRawBufferPointer, algorithm: JWSAlgorithm) throws(JWTError) -> [UInt8] {
        let signature = try withDigestContext(algorithm: algorithm, signing: true) {
            (context) throws(JWTError) -> [UInt8] in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, input.baseAddress, input.count) == 1 else {
                throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not size a \(algorithm.rawValue) signature")
            }
            var output = [UInt8](repeating: 0, count: length)
            let ok = output.withUnsafeMutableBufferPointer {
                EVP_DigestSign(context, $0.baseAddress, &length, input.baseAddress, input.count)
            }
            guard ok == 1 else {
                throw OpenSSLScope.failure(
                    .cryptoFailure, "OpenSSL could not compute a \(algorithm.rawValue) signature")
            }
            return Array(output.prefix(length))
        }
        guard case .ec(let curve) = kind else { return signature }
        guard let raw = ECDSASignature.raw(fromDER: signature, curve: curve) else {
            throw JWTError(.cryptoFailure, "OpenSSL produced an ECDSA signature that does not fit \(curve.jwkName)")
        }
        // Only the low-S twin is issued, so every token has one text (docs/jwt.md).
        return ECDSASignature.withLowS(raw, curve: curve)
    }

    /// Whether `signature` is a valid JWS signature of `input` under `algorithm`.
    /// Any malformed signature is simply invalid.
    func verify(_ signature: [UInt8], input: UnsafeRawBufferPointer, algorithm: JWSAlgorithm) -> Bool {
        var encoded = signature
        if case .ec(let curve) = kind {
            // Only the fixed-width raw form is a JWS ECDSA signature; DER is refused here.
            guard let der = ECDSASignature.der(fromRaw: signature, curve: curve) else { return false }
            encoded = der
        }
        let valid = try? withDigestContext(algorithm: algorithm, signing: false) { context in
            encoded.withUnsafeBufferPointer {
                EVP_DigestVerify(context, $0.baseAddress, $0.count, input.baseAddress, input.count) == 1
            }
        }
        if valid != true { ERR_clear_error() }
        return valid == true
    }

    /// Runs `body` with a digest context initialised for signing or verifying with
    /// this key under `algorithm`, padding configured.
    private func withDigestContext<T>(
        algorithm: JWSAlgorithm, signing: Bool, _ body: (OpaquePointer) throws(JWTError) -> T
    ) throws(JWTError) -> T {
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a digest context")
        }
        defer { EVP_MD_CTX_free(context) }
        // EdDSA signs the message itself (RFC 8037 §3.1): no separate digest.
        let digest = algorithm.family == .edDSA ? nil : algorithm.digest.fetched.pointer
        var keyContext: OpaquePointer?
        let initialised =
            signing
            ? EVP_DigestSignInit(context, &keyContext, digest, nil, pkey)
            : EVP_DigestVerifyInit(context, &keyContext, digest, nil, pkey)
        guard initialised == 1, let keyContext else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not start \(algorithm.rawValue)")
        }
        if algorithm.family == .rsaPSS {
            try Self.configurePSS(keyContext, algorithm: algorithm)
        }
        return try body(context)
    }

    /// RFC 7518 §3.5: MGF1 with the same hash as the message digest, and a salt
    /// as long as the digest output, when signing and when verifying (a verifier
    /// that auto-detects the salt length would accept signatures JWS does not).
    private static func configurePSS(_ keyContext: OpaquePointer, algorithm: JWSAlgorithm) throws(JWTError) {
        guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
            EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1,
            EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, algorithm.digest.fetched.pointer) == 1
        else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not configure RSA-PSS for \(algorithm.rawValue)")
        }
    }
}
