/// The NIST curves JWS uses for ECDSA (RFC 7518 §3.4, §6.2.1.1).
enum EllipticCurve: Sendable, CaseIterable {
    case p256, p384, p521

    /// The curve the algorithm is pinned to: ES256 is P-256, ES384 P-384, ES512 P-521.
    init?(for algorithm: JWSAlgorithm) {
        switch algorithm {
        case .es256: self = .p256
        case .es384: self = .p384
        case .es512: self = .p521
        default: return nil
        }
    }

    /// The curve named by a JWK "crv" value.
    init?(jwkName: String) {
        guard let curve = Self.allCases.first(where: { $0.jwkName == jwkName }) else { return nil }
        self = curve
    }

    /// The curve named by OpenSSL's group name.
    init?(openSSLName: String) {
        guard let curve = Self.allCases.first(where: { $0.openSSLName == openSSLName || $0.jwkName == openSSLName })
        else {
            return nil
        }
        self = curve
    }

    var jwkName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    var openSSLName: String {
        switch self {
        case .p256: "prime256v1"
        case .p384: "secp384r1"
        case .p521: "secp521r1"
        }
    }

    /// Bytes in one coordinate, one private scalar, and one half of a raw JWS
    /// signature (RFC 7518 §3.4: R and S are each this wide, zero-padded).
    var coordinateSize: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }
}
