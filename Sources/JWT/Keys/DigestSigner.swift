internal import COpenSSL

/// A private key made ready to sign under its one algorithm: the key was parsed
/// once into its `AsymmetricKey`, and each signature is one `EVP_DigestSign` over a
/// digest context already initialised for it (`PreparedDigestContexts`).
final class DigestSigner: Sendable {
    let key: AsymmetricKey
    let algorithm: JWSAlgorithm
    /// OpenSSL's bound on one signature: DER for ECDSA, the modulus for RSA, 64 for Ed25519.
    private let capacity: Int
    private let contexts: PreparedDigestContexts

    /// `key` must hold a private key of a type that fits `algorithm` (checked by
    /// `AsymmetricKey.check(for:)` when the key was made).
    init(key: AsymmetricKey, algorithm: JWSAlgorithm) {
        self.key = key
        self.algorithm = algorithm
        self.capacity = max(Int(EVP_PKEY_get_size(key.pkey)), 1)
        // EdDSA signs the message itself (RFC 8037 §3.1): no separate digest.
        let digest = algorithm.family == .edDSA ? nil : algorithm.digest.fetched.pointer
        self.contexts = PreparedDigestContexts(
            key: key, operation: .sign, digest: digest, pss: algorithm.family == .rsaPSS ? algorithm : nil)
    }

    /// The JWS signature of `input`: raw R||S with low S for ECDSA (RFC 7518 §3.4,
    /// docs/jwt.md "Algorithms and keys"), OpenSSL's bytes otherwise.
    func sign(_ input: UnsafeRawBufferPointer) throws(JWTError) -> [UInt8] {
        let capacity = capacity
        let signature = try contexts.use { (context) throws(JWTError) -> ([UInt8]?, succeeded: Bool) in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
                var length = buffer.count
                guard EVP_DigestSign(context, buffer.baseAddress, &length, input.baseAddress, input.count) == 1
                else { return (nil, false) }
                return (Array(buffer[..<min(length, buffer.count)]), true)
            }
        }
        guard let signature else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not compute a \(algorithm.rawValue) signature")
        }
        return try jwsSignature(signature)
    }

    /// OpenSSL's signature in the form JWS wants.
    private func jwsSignature(_ output: [UInt8]) throws(JWTError) -> [UInt8] {
        guard case .ec(let curve) = key.kind else { return output }
        let width = curve.coordinateSize
        var converted = true
        let raw = [UInt8](unsafeUninitializedCapacity: 2 * width) { buffer, count in
            converted = output.withUnsafeBufferPointer {
                ECDSASignature.jwsForm(ofDER: $0, curve: curve, into: buffer)
            }
            if !converted { buffer.initialize(repeating: 0) }
            count = 2 * width
        }
        guard converted else {
            throw JWTError(.cryptoFailure, "OpenSSL produced an ECDSA signature that does not fit \(curve.jwkName)")
        }
        return raw
    }
}
