/// A token whose signature and claims have been checked.
public struct VerifiedJWT: Sendable {
    public let header: JWSHeader
    public let claims: JWTClaims
    /// The key that verified the signature.
    public let keyID: String?
}
