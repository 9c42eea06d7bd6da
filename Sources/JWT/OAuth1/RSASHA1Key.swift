internal import COpenSSL

/// An OAuth 1.0a consumer's RSA public key, verifying `RSA-SHA1` signatures
/// (RFC 5849 §3.4.3: RSASSA-PKCS1-v1_5 over SHA-1). Outside JOSE, but it is
/// OpenSSL work, so it lives here with the other keys.
///
/// SHA-1 is what application links use; the key itself must still be RSA of
/// at least 2048 bits.
public struct RSASHA1Key: Sendable {
    let key: AsymmetricKey
    /// Contexts ready to verify with the key: one `EVP_DigestVerify` a signature.
    private let verifying: PreparedDigestContexts

    /// Reads a PEM public key (SPKI or PKCS#1) or private key (its public half is used).
    /// - Throws: `JWTError.invalidKey` for anything but an RSA key of 2048 bits or more.
    public init(pem: String) throws(JWTError) {
        let key = try PEMDecoding.decode(pem)
        guard case .rsa(let bits) = key.kind else {
            throw JWTError(.invalidKey, "an application link needs an RSA key")
        }
        guard bits >= 2048 else {
            throw JWTError(.invalidKey, "the RSA key has \(bits) bits; at least 2048 are needed")
        }
        self.key = key
        self.verifying = PreparedDigestContexts(key: key, operation: .verify, digest: FetchedDigest.sha1.pointer)
    }

    /// Whether `signature` is an RSA-SHA1 signature of `message` by this key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        let valid = try? verifying.use { (context) throws(JWTError) -> (Bool, succeeded: Bool) in
            let verified = signature.withUnsafeBufferPointer { signature in
                message.withUnsafeBufferPointer { message in
                    EVP_DigestVerify(
                        context, signature.baseAddress, signature.count, message.baseAddress, message.count)
                }
            }
            // 0 is a signature that does not verify, the context fine; below 0 an error.
            return (verified == 1, verified >= 0)
        }
        if valid != true { ERR_clear_error() }
        return valid == true
    }

    /// Signs `message` with RSA-SHA1 (tests and tools only: the gateway never signs as a consumer).
    /// - Throws: `keyCannotSign` for a public key.
    public func sign(_ message: [UInt8]) throws(JWTError) -> [UInt8] {
        guard key.hasPrivateKey else { throw JWTError(.keyCannotSign, "signing needs the RSA private key") }
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a digest context")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha1(), nil, key.pkey) == 1 else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not start RSA-SHA1")
        }
        var length = 0
        let input = message
        guard EVP_DigestSign(context, nil, &length, input, input.count) == 1 else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not size an RSA-SHA1 signature")
        }
        var output = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &output, &length, input, input.count) == 1 else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not compute an RSA-SHA1 signature")
        }
        return Array(output.prefix(length))
    }
}
