import Grants
import JWT
import Policy

/// RFC 8414 metadata for `/.well-known/oauth-authorization-server`: what this
/// gateway issues and where. Only grants and endpoints that exist are listed.
enum AuthorizationServerMetadata {
    static func document(baseURL: String) -> JSONValue {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let clientAuth: JSONValue = .array(["client_secret_basic", "client_secret_post"])
        return .object(
            JSONObject([
                ("issuer", .string(base)),
                ("authorization_endpoint", .string(base + "/authorize")),
                ("token_endpoint", .string(base + "/oauth2/token")),
                ("jwks_uri", .string(base + "/.well-known/jwks.json")),
                ("revocation_endpoint", .string(base + "/oauth2/revoke")),
                ("introspection_endpoint", .string(base + "/oauth2/introspect")),
                ("grant_types_supported", .array(GrantType.allCases.map { .string($0.rawValue) })),
                ("response_types_supported", .array(["code"])),
                ("response_modes_supported", .array(["query"])),
                ("code_challenge_methods_supported", .array(["S256"])),
                // none: the JWT bearer grant (the assertion authenticates) and public 3LO clients (PKCE).
                (
                    "token_endpoint_auth_methods_supported",
                    .array(["client_secret_basic", "client_secret_post", "none"])
                ),
                ("revocation_endpoint_auth_methods_supported", clientAuth),
                ("introspection_endpoint_auth_methods_supported", clientAuth),
                (
                    "scopes_supported",
                    .array(
                        ([
                            "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "SPACE_ADMIN", "ADMIN",
                            "ACCESS_EMAIL_ADDRESSES",
                        ] + ScopeDescriptions.known.keys.sorted()).map { .string($0) })
                ),
            ]))
    }
}
