internal import COpenSSL

/// An OpenSSL `EVP_PKEY` owned by Swift: freed when the last `JWTKey` holding it goes.
///
/// The key is never mutated after construction, and OpenSSL 3 allows concurrent
/// signing and verification with one provider-native key, so it may be shared
/// across threads.
final class AsymmetricKey: @unchecked Sendable {
    /// What sort of key OpenSSL holds, as far as JWS cares.
    enum Kind: Equatable {
        case rsa(bits: Int)
        case ec(EllipticCurve)
        case ed25519
        case unsupported(String)
    }

    let pkey: OpaquePointer
    let hasPrivateKey: Bool
    let kind: Kind

    /// Takes ownership of `pkey`.
    init(taking pkey: OpaquePointer, hasPrivateKey: Bool) {
        self.pkey = pkey
        self.hasPrivateKey = hasPrivateKey
        self.kind = Self.kind(of: pkey)
    }

    deinit { EVP_PKEY_free(pkey) }

    private static func kind(of pkey: OpaquePointer) -> Kind {
        if EVP_PKEY_is_a(pkey, "RSA") == 1 {
            return .rsa(bits: Int(EVP_PKEY_get_bits(pkey)))
        }
        if EVP_PKEY_is_a(pkey, "ED25519") == 1 {
            return .ed25519
        }
        if EVP_PKEY_is_a(pkey, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 else {
                ERR_clear_error()
                return .unsupported("an EC key on an unnamed curve")
            }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return EllipticCurve(openSSLName: group).map(Kind.ec) ?? .unsupported("an EC key on curve \(group)")
        }
        let type = EVP_PKEY_get0_type_name(pkey).map { String(cString: $0) } ?? "unknown"
        return .unsupported("a \(type) key")
    }

    /// Words for the key in error messages ("an RSA key of 2048 bits").
    var summary: String {
        switch kind {
        case .rsa(let bits): "an RSA key of \(bits) bits"
        case .ec(let curve): "an EC key on \(curve.jwkName)"
        case .ed25519: "an Ed25519 key"
        case .unsupported(let words): words
        }
    }

    /// Refuses the key unless its type fits `algorithm`: the algorithm, fixed when
    /// the key was configured, decides which key type is acceptable, never the token.
    func check(for algorithm: JWSAlgorithm) throws(JWTError) {
        switch (algorithm.family, kind) {
        case (.rsaPKCS1, .rsa(let bits)), (.rsaPSS, .rsa(let bits)):
            // RFC 7518 §3.3 and §3.5: a key of size 2048 bits or larger MUST be used.
            guard bits >= 2048 else {
                throw JWTError(
                    .invalidKey,
                    "\(summary) is too small for \(algorithm.rawValue): RFC 7518 §3.3 requires at least 2048 bits")
            }
        case (.ecdsa, .ec(let curve)):
            guard let wanted = EllipticCurve(for: algorithm), wanted == curve else {
                let needed = EllipticCurve(for: algorithm)?.jwkName ?? "?"
                throw JWTError(
                    .keyAlgorithmMismatch, "\(algorithm.rawValue) needs an EC key on \(needed), but this is \(summary)")
            }
        case (.edDSA, .ed25519):
            break
        default:
            throw JWTError(
                .keyAlgorithmMismatch,
                "\(algorithm.rawValue) needs \(Self.needed(for: algorithm)), but this is \(summary)")
        }
    }

    private static func needed(for algorithm: JWSAlgorithm) -> String {
        switch algorithm.family {
        case .hmac: "a shared secret"
        case .rsaPKCS1, .rsaPSS: "an RSA key"
        case .ecdsa: "an EC key on \(EllipticCurve(for: algorithm)?.jwkName ?? "?")"
        case .edDSA: "an Ed25519 key"
        }
    }
}
