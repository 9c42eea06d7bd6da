/// A key pinned to exactly one JWS algorithm: the token header's `alg` never chooses the key type.
///
/// Make one with `secret`, `pem`, `jwk` or `generate`; each refuses a key whose
/// type does not fit the algorithm (an RSA key for ES256, a PEM text as an HMAC
/// secret), so a forged header cannot turn a public key into an HMAC secret.
/// Keys are immutable and safe to share between tasks and threads.
public struct JWTKey: Sendable {
    /// The one algorithm this key signs and verifies with.
    public let algorithm: JWSAlgorithm
    /// The key's "kid", matched against a token header's "kid".
    public let keyID: String?

    let material: Material
    /// Signing contexts prepared for the private key, shared by every copy of the key;
    /// nil for HMAC secrets (whose `HMACKey` is prepared itself) and public keys.
    let signer: DigestSigner?

    /// The OpenSSL object behind the key.
    enum Material: Sendable {
        case secret(HMACKey)
        case asymmetric(AsymmetricKey)
    }

    init(algorithm: JWSAlgorithm, keyID: String?, material: Material) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.material = material
        if case .asymmetric(let key) = material, key.hasPrivateKey {
            signer = DigestSigner(key: key, algorithm: algorithm)
        } else {
            signer = nil
        }
    }

    private init(_ key: JWTKey, keyID: String?) {
        algorithm = key.algorithm
        self.keyID = keyID
        material = key.material
        signer = key.signer
    }

    /// The same key under another `kid`: the key is not read again, and signing
    /// contexts already prepared are shared.
    public func withKeyID(_ keyID: String?) -> JWTKey {
        JWTKey(self, keyID: keyID)
    }

    /// Whether the key can sign: false for public-only keys.
    public var canSign: Bool {
        switch material {
        case .secret: true
        case .asymmetric(let key): key.hasPrivateKey
        }
    }

    /// The JWS signature over the signing input (`ASCII(header).ASCII(payload)`).
    ///
    /// ES* signatures are raw R||S of fixed width (RFC 7518 §3.4).
    /// - Throws: `keyCannotSign` for a public-only key; `cryptoFailure` if OpenSSL fails.
    public func sign<Bytes: Collection>(_ signingInput: Bytes) throws(JWTError) -> [UInt8]
    where Bytes.Element == UInt8 {
        try signingInput.withContiguousBytes { (input) throws(JWTError) in try sign(UnsafeRawBufferPointer(input)) }
    }

    private func sign(_ input: UnsafeRawBufferPointer) throws(JWTError) -> [UInt8] {
        switch material {
        case .secret(let key):
            return try key.authenticate(input)
        case .asymmetric:
            guard let signer else {
                throw JWTError(
                    .keyCannotSign,
                    "this \(algorithm.rawValue) key\(keyIDWords) holds only a public key; signing needs the private key"
                )
            }
            return try signer.sign(input)
        }
    }

    /// Whether `signature` is the canonical one of its kind: for ECDSA, S at most
    /// n/2, since (R, n−S) verifies alike (RFC 6979 leaves this open; Bitcoin's BIP 62
    /// calls it low-S). Always true for other algorithms. Keys of this module sign
    /// only low-S signatures.
    public func isCanonical(signature: [UInt8]) -> Bool {
        guard case .asymmetric(let key) = material, case .ec(let curve) = key.kind else { return true }
        return ECDSASignature.hasLowS(signature, curve: curve)
    }

    /// Whether `signature` is valid for `signingInput` under this key's algorithm.
    ///
    /// HMACs are compared in constant time. A malformed signature (wrong length,
    /// DER where raw R||S is expected) is simply invalid.
    public func verify(signature: [UInt8], signingInput: UnsafeRawBufferPointer) -> Bool {
        switch material {
        case .secret(let key):
            return signature.withUnsafeBytes { key.isValid(mac: $0, for: signingInput) }
        case .asymmetric(let key):
            return key.verify(signature, input: signingInput, algorithm: algorithm)
        }
    }

    /// Whether `signature` is valid for `signingInput` under this key's algorithm.
    public func verify<Bytes: Collection>(signature: [UInt8], signingInput: Bytes) -> Bool
    where Bytes.Element == UInt8 {
        if let result = signingInput.withContiguousStorageIfAvailable({
            verify(signature: signature, signingInput: UnsafeRawBufferPointer($0))
        }) {
            return result
        }
        return Array(signingInput).withUnsafeBytes { verify(signature: signature, signingInput: $0) }
    }

    var keyIDWords: String {
        keyID.map { " (kid \"\($0)\")" } ?? ""
    }
}
