internal import COpenSSL

/// An HMAC key ready for the hot path (RFC 7518 §3.2).
///
/// OpenSSL 3 is slow when each MAC fetches its algorithm and sets its key, so the
/// key and digest go once into a template `EVP_MAC_CTX`; every MAC then starts
/// from a copy of it (`EVP_MAC_CTX_dup` only reads the template, so many threads
/// may use one key at once). The secret itself is not kept anywhere else.
final class HMACKey: @unchecked Sendable {
    let digest: Digest
    private let template: OpaquePointer

    init(secret: [UInt8], digest: Digest) throws {
        guard let context = EVP_MAC_CTX_new(FetchedMAC.hmac.pointer) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate an HMAC context")
        }
        let ok = digest.name.withCString { name in
            var parameters = [
                OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: name), 0),
                OSSL_PARAM_construct_end(),
            ]
            return secret.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) }
        }
        guard ok == 1 else {
            EVP_MAC_CTX_free(context)
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not set up HMAC-\(digest.name)")
        }
        self.digest = digest
        self.template = context
    }

    deinit { EVP_MAC_CTX_free(template) }

    /// Writes the MAC of `input` into `output` (at least `digest.size` bytes).
    /// Returns false only if OpenSSL fails (out of memory).
    func authenticate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let context = EVP_MAC_CTX_dup(template) else { return false }
        defer { EVP_MAC_CTX_free(context) }
        var length = 0
        guard EVP_MAC_update(context, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count) == 1,
            EVP_MAC_final(context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, output.count) == 1
        else {
            ERR_clear_error()
            return false
        }
        return length == digest.size
    }

    /// The MAC of `input`.
    func authenticate(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: digest.size)
        guard output.withUnsafeMutableBytes({ authenticate(input, into: $0) }) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL failed to compute HMAC-\(digest.name)")
        }
        return output
    }

    /// Whether `mac` is the MAC of `input`, compared in constant time. Allocates
    /// nothing on the heap beyond OpenSSL's context copy.
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
