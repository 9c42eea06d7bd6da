internal import COpenSSL

extension JWTKey {
    /// A key from PEM text: SPKI public ("BEGIN PUBLIC KEY"), PKCS#8 private
    /// ("BEGIN PRIVATE KEY"), PKCS#1 ("BEGIN RSA PUBLIC KEY", "BEGIN RSA PRIVATE
    /// KEY") or SEC1 ("BEGIN EC PRIVATE KEY").
    ///
    /// The key type must fit the algorithm family: RSA for RS*/PS*, EC on P-256,
    /// P-384 or P-521 for ES256, ES384, ES512, Ed25519 for EdDSA. RSA keys under
    /// 2048 bits are refused (RFC 7518 §3.3).
    /// - Throws: `invalidKey` for unreadable or unsupported PEM; `keyAlgorithmMismatch`
    ///   when the key type does not fit `algorithm`.
    public static func pem(_ text: String, algorithm: JWSAlgorithm, keyID: String? = nil) throws(JWTError) -> JWTKey {
        guard algorithm.family != .hmac else {
            throw JWTError(.keyAlgorithmMismatch, "\(algorithm.rawValue) needs a shared secret, not a PEM key")
        }
        let key = try PEMDecoding.decode(text)
        try key.check(for: algorithm)
        return JWTKey(algorithm: algorithm, keyID: keyID, material: .asymmetric(key))
    }

    /// The public key as SPKI PEM ("BEGIN PUBLIC KEY"); nil for HMAC keys.
    public func publicKeyPEM() -> String? {
        guard case .asymmetric(let key) = material else { return nil }
        return OpenSSLScope.writtenText { PEM_write_bio_PUBKEY($0, key.pkey) }
    }

    /// The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"); nil for
    /// public-only and HMAC keys.
    public func privateKeyPEM() -> String? {
        guard case .asymmetric(let key) = material, key.hasPrivateKey else { return nil }
        return OpenSSLScope.writtenText { PEM_write_bio_PrivateKey($0, key.pkey, nil, nil, 0, nil, nil) }
    }
}

/// Reading one PEM block into an OpenSSL key.
enum PEMDecoding {
    private static let publicLabels: Set = ["PUBLIC KEY", "RSA PUBLIC KEY"]
    private static let privateLabels: Set = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]

    static func decode(_ text: String) throws(JWTError) -> AsymmetricKey {
        let label = try soleLabel(in: text)
        let isPrivate = privateLabels.contains(label)
        guard isPrivate || publicLabels.contains(label) else {
            throw JWTError(.invalidKey, "PEM \"\(label)\" is not supported\(advice(for: label))")
        }
        let selection = isPrivate ? linkgate_selection_keypair() : linkgate_selection_public_key()
        var pkey: OpaquePointer?
        guard let decoder = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nil, nil, selection, nil, nil) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not create a PEM decoder")
        }
        defer { OSSL_DECODER_CTX_free(decoder) }
        let decoded = Array(text.utf8).withUnsafeBufferPointer { buffer -> Bool in
            var cursor = buffer.baseAddress
            var remaining = buffer.count
            return OSSL_DECODER_from_data(decoder, &cursor, &remaining) == 1
        }
        guard decoded, let pkey else {
            throw OpenSSLScope.failure(.invalidKey, "the PEM \"\(label)\" block could not be read as a key")
        }
        return AsymmetricKey(taking: pkey, hasPrivateKey: isPrivate)
    }

    /// The label of the one PEM block in `text`; more than one block is refused,
    /// so it is never ambiguous which key was configured.
    private static func soleLabel(in text: String) throws(JWTError) -> String {
        let labels = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let line = line.trimmingWhitespace()
            guard line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") else { return nil }
            return String(line.dropFirst("-----BEGIN ".count).dropLast("-----".count))
        }
        guard labels.count == 1, let label = labels.first else {
            let found = labels.isEmpty ? "no PEM block" : "\(labels.count) PEM blocks"
            throw JWTError(.invalidKey, "expected exactly one PEM key block, found \(found)")
        }
        return label
    }

    private static func advice(for label: String) -> String {
        switch label {
        case "ENCRYPTED PRIVATE KEY": "; decrypt it first (openssl pkey -in KEY.pem -out PLAIN.pem)"
        case "CERTIFICATE": "; extract its public key (openssl x509 -in CERT.pem -pubkey -noout)"
        default: "; expected PUBLIC KEY, PRIVATE KEY, RSA PUBLIC KEY, RSA PRIVATE KEY or EC PRIVATE KEY"
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var trimmed = self
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        return trimmed
    }
}
