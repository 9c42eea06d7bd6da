/// The JWS algorithms Linkgate signs and verifies (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// `none` is deliberately absent: it can never be named, so never accepted.
public enum JWSAlgorithm: String, Sendable, CaseIterable, Hashable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es512 = "ES512"
    case edDSA = "EdDSA"

    /// The family of key the algorithm needs.
    public enum Family: Sendable {
        case hmac, rsaPKCS1, rsaPSS, ecdsa, edDSA
    }

    public var family: Family {
        switch self {
        case .hs256, .hs384, .hs512: .hmac
        case .rs256, .rs384, .rs512: .rsaPKCS1
        case .ps256, .ps384, .ps512: .rsaPSS
        case .es256, .es384, .es512: .ecdsa
        case .edDSA: .edDSA
        }
    }

    /// The hash the algorithm signs over (EdDSA hashes internally: SHA-512).
    public var digest: Digest {
        switch self {
        case .hs256, .rs256, .ps256, .es256: .sha256
        case .hs384, .rs384, .ps384, .es384: .sha384
        case .hs512, .rs512, .ps512, .es512, .edDSA: .sha512
        }
    }
}
