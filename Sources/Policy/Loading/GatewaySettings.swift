/// The instance settings of `gateway.json` (docs/policies.md §3). Only `baseUrl` is
/// required; every other field has the default documented on it.
public struct GatewaySettings: Sendable, Equatable {
    /// The site's URL, without a trailing `/`: the `tnt` and `aud` of assertions,
    /// the issuer of access tokens, and the base removed before a `qsh` is formed.
    public var baseUrl: String
    /// The main listener, `HOST:PORT`. Default `127.0.0.1:8080`.
    public var listen: String
    /// The admin listener (health, metrics), `HOST:PORT`. Default `127.0.0.1:8081`.
    public var adminListen: String
    /// The authz listener for forward authorization (nginx `auth_request`, Envoy
    /// `ext_authz`, Traefik `forwardAuth`), `HOST:PORT`. Default none: off.
    public var authzListen: String?
    /// Removed from the start of an authz request's own path when it carries no
    /// `X-Forwarded-Uri` or `X-Original-URI` (Envoy's `path_prefix`), e.g. `/authz`.
    /// Default none.
    public var authzPathPrefix: String?
    /// The main listener's certificate and key: HTTPS instead of HTTP (docs/tls.md). Default none.
    public var tls: ListenerTLSFiles?
    /// The admin listener's certificate and key. Default none.
    public var adminTls: ListenerTLSFiles?
    /// The authz listener's certificate and key. Default none.
    public var authzTls: ListenerTLSFiles?
    /// `sqlite:PATH` or `postgres://…`. Default `sqlite:var/linkgate.sqlite`.
    public var store: String
    /// Tolerance for `iat`, `nbf` and `exp` checks. Default 30.
    public var clockSkewSeconds: Int
    public var accessTokens: AccessTokenSettings
    public var lifetimes: Lifetimes
    /// Extra `aud` values a 2LOi assertion may carry besides `baseUrl` and
    /// `<baseUrl>/oauth2/token`. Default none.
    public var assertionAudiences: [String]
    public var site: SiteSettings
    /// Whether HTTP Basic with an API token is accepted. Default `true`.
    public var basicAuth: Bool
    public var login: LoginSettings
    /// Whether allowed proxied requests are written to the store's audit log too,
    /// not only to the access log. Default `false`: at full proxy speed that is tens
    /// of thousands of rows a second. Denials, grants, revocations and sign-ins are
    /// always audited.
    public var auditAllowedRequests: Bool
    /// Request headers the gateway removes by default because backends read them as
    /// the real method, URL, client or user (`X-HTTP-Method-Override`,
    /// `X-Original-URL`, `X-Real-IP`…), which the upstream should get from the client
    /// after all. Names from `clientRewritingHeaders`, lower case. Default none.
    public var forwardClientHeaders: [String]
    public var connections: ConnectionSettings
    public var source: PolicyLocation

    /// The request headers removed unless `forwardClientHeaders` names them.
    public static let clientRewritingHeaders: Set<String> = [
        "x-http-method-override", "x-method-override", "x-http-method", "x-original-url", "x-rewrite-url",
        "x-real-ip", "client-ip", "x-client-ip", "x-remote-user", "x-forwarded-user", "x-forwarded-port",
        "x-forwarded-prefix", "x-forwarded-server",
    ]

    /// The defaults of docs/policies.md §3 around a base URL.
    public init(baseUrl: String, source: PolicyLocation = PolicyLocation(file: "gateway.json")) {
        self.baseUrl = baseUrl
        self.listen = "127.0.0.1:8080"
        self.adminListen = "127.0.0.1:8081"
        self.store = "sqlite:var/linkgate.sqlite"
        self.clockSkewSeconds = 30
        self.accessTokens = AccessTokenSettings()
        self.lifetimes = Lifetimes()
        self.assertionAudiences = []
        self.site = SiteSettings()
        self.basicAuth = true
        self.login = LoginSettings()
        self.auditAllowedRequests = false
        self.forwardClientHeaders = []
        self.connections = ConnectionSettings()
        self.source = source
    }
}

/// Limits on the clients' connections to each listener (`connections`), in the
/// spirit of nginx's `worker_connections`, `client_header_timeout`,
/// `client_body_timeout` and `keepalive_timeout`.
public struct ConnectionSettings: Sendable, Equatable {
    /// Open connections a listener keeps; beyond it a new one gets a 503 and is closed. Default 10000.
    public var max: Int = 10_000
    /// Once a request has begun, its head must be complete within this. Default 60000.
    public var headerTimeoutMs: Int = 60_000
    /// The longest wait between two reads of a request body; a request to the
    /// gateway's own endpoints must be read whole within it. Default 60000.
    public var bodyTimeoutMs: Int = 60_000
    /// How long a connection may wait, idle, for its next request. Default 75000.
    public var keepAliveTimeoutMs: Int = 75_000

    public init() {}
}

/// How the gateway signs the access tokens it issues.
public struct AccessTokenSettings: Sendable, Equatable {
    /// The JWS algorithm of issued tokens. Default `ES256`.
    public var algorithm: String = "ES256"
    /// A PEM private key, relative to the policy folder. Absent (the default):
    /// a key is generated on first start and kept in the store.
    public var keyFile: String?

    public init(algorithm: String = "ES256", keyFile: String? = nil) {
        self.algorithm = algorithm
        self.keyFile = keyFile
    }
}

/// Lifetimes, in seconds, of what the gateway issues and accepts.
public struct Lifetimes: Sendable, Equatable {
    public var jwtBearerAccessToken = 900
    public var authorizationCodeAccessToken = 3600
    public var authorizationCode = 600
    /// A refresh token family unused this long expires (90 days).
    public var refreshTokenInactivity = 7_776_000
    /// A refresh token family expires this long after its first token (365 days).
    public var refreshTokenAbsolute = 31_536_000
    public var oauth1AccessToken = 604_800
    /// The longest `exp - iat` a 2LOi assertion may have.
    public var assertionMax = 60
    /// The longest `exp - iat` a Connect JWT may have.
    public var connectJwtMax = 3600
    /// How long an already rotated refresh token may be presented again
    /// (a client's retry) before its family is revoked.
    public var refreshTokenReuseGrace = 10

    public init() {}
}

/// The site reported by `accessible-resources`.
public struct SiteSettings: Sendable, Equatable {
    /// The site's id; `nil` (the default) has one generated on first start.
    public var id: String?
    /// Default `Example site`.
    public var name: String = "Example site"

    public init(id: String? = nil, name: String = "Example site") {
        self.id = id
        self.name = name
    }
}

/// How people sign in to approve 3LO consent.
public struct LoginSettings: Sendable, Equatable {
    /// The local login form, for users with a `passwordHash`. Default `true`.
    public var local: Bool = true
    /// A header set by a trusted front proxy that names the signed-in user's
    /// account id. Default `nil`: no such header is trusted.
    public var trustedHeader: String?

    public init(local: Bool = true, trustedHeader: String? = nil) {
        self.local = local
        self.trustedHeader = trustedHeader
    }
}
