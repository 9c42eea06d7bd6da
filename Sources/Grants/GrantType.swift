/// The OAuth 2.0 grant types the token endpoint accepts (docs/gateway.md §6).
public enum GrantType: String, Sendable, CaseIterable {
    /// RFC 7523 JWT bearer assertion: an app impersonating a user ("2LOi").
    case jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// RFC 6749 §4.1 authorization code with user consent ("3LO").
    case authorizationCode = "authorization_code"
    /// RFC 6749 §6 refresh with a rotating refresh token.
    case refreshToken = "refresh_token"
}
