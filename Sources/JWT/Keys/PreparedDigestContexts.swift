internal import COpenSSL
import Synchronization

/// Digest contexts made ready once for one key, one operation (signing or verifying)
/// and one digest, and re-armed after each use.
///
/// OpenSSL 3 spends more on `EVP_DigestSignInit` or `EVP_DigestVerifyInit` with a key
/// (a new key context, the provider's signature fetched and set up) than P-256 spends
/// signing or RSA spends verifying. So a context is initialised once with the key, and
/// after each use re-armed with the same call and no key, which keeps the key and the
/// digest and allocates nothing. Idle contexts wait in a small pool; a use takes one
/// (or makes one when the pool is empty), so each context serves one thread at a time
/// while the key itself is only read, and one pool serves every task at once.
final class PreparedDigestContexts: @unchecked Sendable {
    enum Operation { case sign, verify }

    let key: AsymmetricKey
    let operation: Operation
    /// The fetched `EVP_MD`; nil for EdDSA, which signs the message itself.
    private let digest: OpaquePointer?
    /// The RSA-PSS algorithm whose padding is set after each arming (re-arming resets it).
    private let pss: JWSAlgorithm?
    /// Contexts armed for the next use.
    private let idle = Mutex<[Context]>([])
    private static let maxIdle = 64

    /// One `EVP_MD_CTX`, owned by the pool while idle and by one use while in use.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    init(key: AsymmetricKey, operation: Operation, digest: OpaquePointer?, pss: JWSAlgorithm? = nil) {
        self.key = key
        self.operation = operation
        self.digest = digest
        self.pss = pss
    }

    deinit {
        idle.withLock { contexts in
            for context in contexts { EVP_MD_CTX_free(context.pointer) }
            contexts.removeAll()
        }
    }

    /// Runs `body` with an armed context; the context goes back to the pool after it,
    /// unless `body` says it failed (`false`): a context in an unknown state is never reused.
    func use<T>(_ body: (OpaquePointer) throws(JWTError) -> (T, succeeded: Bool)) throws(JWTError) -> T {
        let context = try take()
        let (result, succeeded): (T, Bool)
        do {
            (result, succeeded) = try body(context)
        } catch {
            EVP_MD_CTX_free(context)
            throw error
        }
        if succeeded { recycle(context) } else { EVP_MD_CTX_free(context) }
        return result
    }

    /// An idle context, or a new one initialised with the key.
    private func take() throws(JWTError) -> OpaquePointer {
        if let context = idle.withLock({ $0.popLast() }) { return context.pointer }
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a digest context")
        }
        // A use finalises this context instead of copying it first: it is re-armed anyway.
        EVP_MD_CTX_set_flags(context, EVP_MD_CTX_FLAG_FINALISE)
        guard arm(context, withKey: true) else {
            EVP_MD_CTX_free(context)
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not start a digest context for the key")
        }
        return context
    }

    /// Re-arms `context` for the next use with the key it holds, and returns it to the
    /// pool; one that cannot be re-armed, or does not fit, is freed.
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

    /// `EVP_DigestSignInit` or `EVP_DigestVerifyInit` with the key (a new context) or
    /// without it (OpenSSL 3 then re-initialises the context's own key context), then
    /// RSA-PSS's padding, which re-initialising resets to PKCS #1 v1.5.
    private func arm(_ context: OpaquePointer, withKey: Bool) -> Bool {
        var keyContext: OpaquePointer?
        let pkey = withKey ? key.pkey : nil
        let armed =
            switch operation {
            case .sign: EVP_DigestSignInit(context, &keyContext, digest, nil, pkey)
            case .verify: EVP_DigestVerifyInit(context, &keyContext, digest, nil, pkey)
            }
        guard armed == 1, let keyContext else { return false }
        guard let pss else { return true }
        return AsymmetricKey.configurePSS(keyContext, algorithm: pss)
    }
}
