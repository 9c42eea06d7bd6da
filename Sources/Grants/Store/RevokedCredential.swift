/// How a revoked API token or OAuth 1.0a access token is named in the revocation
/// list (docs/links.md, "Verified credentials in memory"): beside the `jti` of
/// access tokens, so the list every gateway already polls also drops these
/// credentials from the gateways' memory.
public enum RevokedCredential {
    /// How long a gateway may answer from memory for an API token or OAuth 1.0a access
    /// token before it asks the store again, in seconds.
    public static let cacheLifetime: Int64 = 300

    /// How long an API token's revocation is kept (API tokens do not expire): longer than
    /// any cache entry made before the revocation can live.
    public static let apiTokenRetention: Int64 = cacheLifetime + 3600

    static let apiTokenPrefix = "api-token:"
    static let oauth1Prefix = "oauth1:"
    static let grantPrefix = "grant:"

    /// The revocation-list name of the API token `id` (`at-…`).
    public static func apiToken(id: String) -> String { apiTokenPrefix + id }

    /// The revocation-list name of a 3LO grant's access tokens: the tag they carry
    /// (`AccessToken.grantTag`).
    public static func grant(tag: String) -> String { grantPrefix + tag }

    /// The revocation-list name of an OAuth 1.0a access token: its SHA-256, never the token.
    public static func oauth1(token: String) -> String { oauth1Prefix + SecretDigest.hex(token) }
}
