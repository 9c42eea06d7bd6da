internal import COpenSSL
import Synchronization

/// A private key made ready to sign under its one algorithm: the key was parsed
/// once into its `AsymmetricKey`, and each signature is one `EVP_DigestSign` over a
/// digest context already initialised for it.
///
/// OpenSSL 3 spends more on `EVP_DigestSignInit` with a key (a new key context, the
/// provider's signature fetched and set up) than P-256 spends signing. So a context
/// is initialised once with the key, and after each signature re-armed with
/// `EVP_DigestSignInit` and no key, which keeps the key and the digest and allocates
/// nothing. Idle contexts wait in a small pool; a signature takes one (or makes one
/// when the pool is empty), so each context is used by one thread at a time while
/// the key itself is only read, and one signer serves every task at once.
final class DigestSigner: @unchecked Sendable {
    let key: AsymmetricKey
    let algorithm: JWSAlgorithm
    /// OpenSSL's bound on one signature: DER for ECDSA, the modulus for RSA, 64 for Ed25519.
    private let capacity: Int
    /// Contexts armed for the next signature.
    private let idle = Mutex<[Context]>([])
    private static let maxIdle = 64

    /// One `EVP_MD_CTX`, owned by the pool while idle and by one signature while in use.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// `key` must hold a private key of a type that fits `algorithm` (checked by
    /// `AsymmetricKey.check(for:)` when the key was made).
    init(key: AsymmetricKey, algorithm: JWSAlgorithm) {
        self.key = key
        self.algorithm = algorithm
        self.capacity = max(Int(EVP_PKEY_get_size(key.pkey)), 1)
    }

    deinit {
        idle.withLock { contexts in
            for context in contexts { EVP_MD_CTX_free(context.pointer) }
            contexts.removeAll()
        }
    }

    /// The JWS signature of `input`: raw R||S with low S for ECDSA (RFC 7518 §3.4,
    /// docs/jwt.md "Algorithms and keys"), OpenSSL's bytes otherwise.
    func sign(_ input: UnsafeRawBufferPointer) throws(JWTError) -> [UInt8] {
        let context = try take()
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) {
            (buffer) throws(JWTError) -> [UInt8] in
            var length = buffer.count
            let signed = EVP_DigestSign(context, buffer.baseAddress, &length, input.baseAddress, input.count) == 1
            guard signed else {
                // A context in an unknown state is never reused.
                EVP_MD_CTX_free(context)
                throw OpenSSLScope.failure(
                    .cryptoFailure, "OpenSSL could not compute a \(algorithm.rawValue) signature")
            }
            recycle(context)
            return try jwsSignature(UnsafeBufferPointer(rebasing: buffer[..<min(length, buffer.count)]))
        }
    }

    /// OpenSSL's signature in the form JWS wants.
    private func jwsSignature(_ output: UnsafeBufferPointer<UInt8>) throws(JWTError) -> [UInt8] {
        guard case .ec(let curve) = key.kind else { return Array(output) }
        let width = curve.coordinateSize
        var converted = true
        let raw = [UInt8](unsafeUninitializedCapacity: 2 * width) { buffer, count in
            converted = ECDSASignature.jwsForm(ofDER: output, curve: curve, into: buffer)
            if !converted { buffer.initialize(repeating: 0) }
            count = 2 * width
        }
        guard converted else {
            throw JWTError(.cryptoFailure, "OpenSSL produced an ECDSA signature that does not fit \(curve.jwkName)")
        }
        return raw
    }

    /// An idle context, or a new one initialised with the key.
    private func take() throws(JWTError) -> OpaquePointer {
        if let context = idle.withLock({ $0.popLast() }) { return context.pointer }
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a digest context")
        }
        // Signing finalises this context instead of copying it first: it is re-armed anyway.
        EVP_MD_CTX_set_flags(context, EVP_MD_CTX_FLAG_FINALISE)
        guard arm(context, withKey: true) else {
            EVP_MD_CTX_free(context)
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not start \(algorithm.rawValue)")
        }
        return context
    }

    /// Re-arms `context` for the next signature with the key it holds, and returns it
    /// to the pool; one that cannot be re-armed, or does not fit, is freed.
    private func recycle(_ context: OpaquePointer) {
        guard arm(context, withKey: false) else {
            ERR_clear_error()
            EVP_MD_CTX_free(context)
            return
        }
        let kept = idle.withLock { contexts in
            guard contexts.count < Self.maxIdle else { return false }
            contexts.append(Context(pointer: context))
            return true
        }
        if !kept { EVP_MD_CTX_free(context) }
    }

    /// `EVP_DigestSignInit` with the key (a new context) or without it (OpenSSL 3
    /// then re-initialises the context's own key context), and RSA-PSS's padding,
    /// which re-initialising resets to PKCS #1 v1.5.
    private func arm(_ context: OpaquePointer, withKey: Bool) -> Bool {
        // EdDSA signs the message itself (RFC 8037 §3.1): no separate digest.
        let digest = algorithm.family == .edDSA ? nil : algorithm.digest.fetched.pointer
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit(context, &keyContext, digest, nil, withKey ? key.pkey : nil) == 1, let keyContext
        else { return false }
        return algorithm.family != .rsaPSS || AsymmetricKey.configurePSS(keyContext, algorithm: algorithm)
    }
}
