internal import COpenSSL

/// Scoped access to OpenSSL resources: each helper creates a C object, hands it
/// to `body`, and frees it on the way out, so no BIO, context or parameter
/// array outlives the call that needed it.
enum OpenSSLScope {
    /// Runs `body` with a read-only memory BIO over `bytes`.
    static func withReadOnlyMemoryBIO<T>(
        _ bytes: [UInt8], _ body: (OpaquePointer) throws(JWTError) -> T
    ) throws(JWTError) -> T {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JWTError) -> T in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
                throw failure(.cryptoFailure, "OpenSSL could not allocate a memory buffer")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// The text `write` puts into a fresh memory BIO, or nil when it fails.
    static func writtenText(_ write: (OpaquePointer) -> Int32) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else {
            ERR_clear_error()
            return nil
        }
        var data: UnsafeMutablePointer<CChar>?
        let length = linkgate_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// Runs `body` with a key context for the OpenSSL key type `name` ("RSA", "EC", "ED25519").
    static func withKeyContext<T>(
        named name: String, _ body: (OpaquePointer) throws(JWTError) -> T
    ) throws(JWTError) -> T {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw failure(.cryptoFailure, "OpenSSL has no \(name) key support")
        }
        defer { EVP_PKEY_CTX_free(context) }
        return try body(context)
    }

    /// Runs `body` with a key context bound to `pkey` (for checks and key operations).
    static func withKeyContext<T>(
        for pkey: OpaquePointer, _ body: (OpaquePointer) throws(JWTError) -> T
    ) throws(JWTError) -> T {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            throw failure(.cryptoFailure, "OpenSSL could not allocate a key context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        return try body(context)
    }

    /// A `JWTError` for a failed OpenSSL call. The thread's OpenSSL error queue is
    /// cleared, so a stale entry never surfaces in a later, unrelated failure; its
    /// reason string names a check, never key material.
    static func failure(_ code: JWTError.Code, _ reason: String) -> JWTError {
        let detail = ERR_peek_last_error()
        ERR_clear_error()
        guard detail != 0, let text = ERR_reason_error_string(detail) else { return JWTError(code, reason) }
        return JWTError(code, "\(reason) (OpenSSL: \(String(cString: text)))")
    }
}

/// A `BIGNUM` made from big-endian bytes, freed when released.
final class BigNumber {
    let pointer: OpaquePointer

    init(bytes: [UInt8]) throws(JWTError) {
        guard let bn = bytes.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a big number")
        }
        pointer = bn
    }

    deinit { BN_clear_free(pointer) }

    /// The big-endian bytes of `bn`, left-padded with zeros to `width` when given.
    static func bytes(of bn: OpaquePointer, width: Int? = nil) -> [UInt8]? {
        let count = width ?? Int(linkgate_bn_num_bytes(bn))
        var output = [UInt8](repeating: 0, count: count)
        let written = output.withUnsafeMutableBufferPointer { BN_bn2binpad(bn, $0.baseAddress, Int32(count)) }
        return written == count ? output : nil
    }
}
