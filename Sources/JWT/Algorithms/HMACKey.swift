internal import COpenSSL
import Synchronization

/// An HMAC key ready for the hot path (RFC 7518 §3.2).
///
/// OpenSSL 3 is slow when each MAC fetches its algorithm and sets its key, so the
/// key and digest go once into a template `EVP_MAC_CTX`. A MAC takes an idle
/// context from a small pool (re-armed after use with `EVP_MAC_init` and no key,
/// which keeps the key: about half the cost of a fresh `EVP_MAC_CTX_dup`), or
/// copies the template when the pool is empty. The template is only read, and a
/// pooled context is used by one thread at a time, so one key serves many threads.
/// The secret itself is not kept anywhere else; the keyed states below are wiped
/// when the key goes.
///
/// An HS256 key is also kept as two SHA-256 states that have absorbed the padded
/// key (`linkgate_hmac_sha256_key` in Sources/COpenSSL/shim.h), and its MACs are
/// made from stack copies of them: the same HMAC without `EVP_MAC`'s provider calls,
/// context copies, re-arming and pool, which were about a quarter of the MAC's time
/// (docs/jwt.md, "The Connect request binding"). The pool serves HS384 and HS512,
/// and HS256 where OpenSSL is built without its deprecated SHA-256 calls.
///
/// The pool is a `Mutex` (a futex: one compare-and-swap each way when uncontended)
/// rather than OpenSSL's lock, a pthread read-write lock: taken twice per MAC, that
/// lock was about 3% of a Connect verification's time under perf, the `Mutex` is
/// about 1% (docs/jwt.md, "The Connect request binding").
final class HMACKey: @unchecked Sendable {
    let digest: Digest
    private let template: OpaquePointer
    /// Re-armed contexts ready for the next MAC.
    private let idle: Mutex<[IdleContext]>
    /// The keyed SHA-256 states of an HS256 key; only read after `init`.
    private let sha256States: UnsafeMutablePointer<linkgate_hmac_sha256_key>?

    /// A pooled context: only the thread that takes it out of the pool uses it.
    private struct IdleContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }
    private static let maxIdle = 64

    init(secret: [UInt8], digest: Digest) throws(JWTError) {
        guard let context = EVP_MAC_CTX_new(FetchedMAC.hmac.pointer) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate an HMAC context")
        }
        // An OSSL_PARAM keeps pointers to its key and value, so both C strings must
        // outlive EVP_MAC_init: a string passed straight to OSSL_PARAM_construct_utf8_string
        // is only valid during that call (AddressSanitizer, docs/testing.md "Sanitizers").
        let ok = "digest".withCString { key in
            digest.name.withCString { name in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(key, UnsafeMutablePointer(mutating: name), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return secret.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) }
            }
        }
        guard ok == 1 else {
            EVP_MAC_CTX_free(context)
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not set up HMAC-\(digest.name)")
        }
        self.digest = digest
        self.template = context
        self.sha256States = digest == .sha256 ? Self.keyedSHA256States(secret) : nil
        var contexts: [IdleContext] = []
        contexts.reserveCapacity(Self.maxIdle)
        self.idle = Mutex(contexts)
    }

    deinit {
        idle.withLock { contexts in
            for context in contexts { EVP_MAC_CTX_free(context.pointer) }
        }
        EVP_MAC_CTX_free(template)
        if let sha256States {
            OPENSSL_cleanse(sha256States, MemoryLayout<linkgate_hmac_sha256_key>.size)
            sha256States.deallocate()
        }
    }

    /// The keyed SHA-256 states of `secret`, or nil when this OpenSSL cannot make them.
    private static func keyedSHA256States(_ secret: [UInt8]) -> UnsafeMutablePointer<linkgate_hmac_sha256_key>? {
        let states = UnsafeMutablePointer<linkgate_hmac_sha256_key>.allocate(capacity: 1)
        states.initialize(to: linkgate_hmac_sha256_key())
        guard secret.withUnsafeBufferPointer({ linkgate_hmac_sha256_prepare(states, $0.baseAddress, $0.count) }) == 1
        else {
            OPENSSL_cleanse(states, MemoryLayout<linkgate_hmac_sha256_key>.size)
            states.deallocate()
            return nil
        }
        return states
    }

    private func takeContext() -> OpaquePointer? {
        idle.withLock { $0.popLast()?.pointer } ?? EVP_MAC_CTX_dup(template)
    }

    /// Re-arms `context` with the same key and returns it to the pool.
    private func recycle(_ context: OpaquePointer) {
        guard EVP_MAC_init(context, nil, 0, nil) == 1 else {
            ERR_clear_error()
            EVP_MAC_CTX_free(context)
            return
        }
        let idleContext = IdleContext(pointer: context)
        let kept = idle.withLock { contexts in
            guard contexts.count < Self.maxIdle else { return false }
            contexts.append(idleContext)
            return true
        }
        if !kept { EVP_MAC_CTX_free(context) }
    }

    /// Writes the MAC of `input` into `output` (at least `digest.size` bytes).
    /// Returns false only if OpenSSL fails (out of memory).
    func authenticate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        if let sha256States {
            guard output.count >= 32 else { return false }
            return linkgate_hmac_sha256(
                sha256States, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                output.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
        }
        guard let context = takeContext() else { return false }
        var length = 0
        guard EVP_MAC_update(context, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count) == 1,
            EVP_MAC_final(context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, output.count) == 1
        else {
            // A context in an unknown state is never reused.
            ERR_clear_error()
            EVP_MAC_CTX_free(context)
            return false
        }
        recycle(context)
        return length == digest.size
    }

    /// The MAC of `input`.
    func authenticate(_ input: UnsafeRawBufferPointer) throws(JWTError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: digest.size)
        guard output.withUnsafeMutableBytes({ authenticate(input, into: $0) }) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL failed to compute HMAC-\(digest.name)")
        }
        return output
    }

    /// Whether `mac` is the MAC of `input`, compared in constant time. Allocates
    /// nothing on the heap once the pool is warm.
    func isValid(mac: UnsafeRawBufferPointer, for input: UnsafeRawBufferPointer) -> Bool {
        // The length is public (it is fixed by the algorithm); only content is compared in constant time.
        guard mac.count == digest.size else { return false }
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 16) { expected in
            guard authenticate(input, into: expected) else { return false }
            return ConstantTime.equals(UnsafeRawBufferPointer(rebasing: expected[..<digest.size]), mac)
        }
    }
}

/// The HMAC `EVP_MAC`, fetched once per process.
final class FetchedMAC: @unchecked Sendable {
    // Immutable after fetch; fetched algorithms are safe to share between threads.
    let pointer: OpaquePointer

    private init(_ name: String) {
        guard let mac = EVP_MAC_fetch(nil, name, nil) else {
            preconditionFailure("OpenSSL has no \(name) MAC")
        }
        pointer = mac
    }

    static let hmac = FetchedMAC("HMAC")
}
