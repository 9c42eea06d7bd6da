/// How a request proved who it is (docs/gateway.md §3). The raw value is what the
/// backend sees in `X-Linkgate-Auth` (docs/gateway.md §5).
public enum CredentialKind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `Authorization: JWT …` or `?jwt=…`: runs as the app user with the app's scopes.
    case connectJWT = "jwt"
    /// Bearer token from the JWT bearer grant (2LOi).
    case jwtBearer = "jwt-bearer"
    /// Bearer token from the authorization code grant (3LO).
    case authorizationCode = "authorization-code"
    /// HTTP Basic with an API token.
    case basic = "basic"
    /// OAuth 1.0a with an access token (3-legged).
    case oauth1ThreeLegged = "oauth1-3lo"
    /// OAuth 1.0a 2-legged, running as the consumer's `executeAs` user.
    case oauth1TwoLegged = "oauth1-2lo"
    /// OAuth 1.0a 2-legged with `xoauth_requestor_id`.
    case oauth1TwoLeggedImpersonation = "oauth1-2loi"
    /// No credential at all: only public routes let it through.
    case anonymous = "anonymous"

    /// Basic and OAuth 1.0a credentials carry no scopes: the scope test is
    /// skipped and the permission test alone decides (docs/gateway.md §3).
    public var skipsScopeTest: Bool {
        switch self {
        case .basic, .oauth1ThreeLegged, .oauth1TwoLegged, .oauth1TwoLeggedImpersonation: true
        case .connectJWT, .jwtBearer, .authorizationCode, .anonymous: false
        }
    }

    /// Whether a denial should carry `WWW-Authenticate: Bearer error=…` (docs/gateway.md §4).
    public var isBearerToken: Bool { self == .jwtBearer || self == .authorizationCode }

    public var description: String { rawValue }
}
