import Scopes

/// A backend named in `routes.json`.
public struct UpstreamSpec: Sendable, Equatable {
    public var name: String
    /// An absolute http(s) URL; the request's path is appended to it.
    public var url: String
    /// Default 1000.
    public var connectTimeoutMs: Int
    /// Default 30000.
    public var requestTimeoutMs: Int
    /// The CA, client certificate and name for an `https` URL (docs/tls.md §2);
    /// `nil`: the system's trust roots and the URL's host.
    public var tls: UpstreamTLSFiles?
    public var source: PolicyLocation

    public init(name: String, url: String, source: PolicyLocation) {
        self.name = name
        self.url = url
        self.connectTimeoutMs = 1000
        self.requestTimeoutMs = 30000
        self.source = source
    }
}

/// One rule of `routes.json`: which requests it covers and what they need.
public struct RouteSpec: Sendable, Equatable {
    /// Upper-case HTTP methods.
    public var methods: [String]
    /// The path template as written, e.g. `/rest/api/3/issue/{issueIdOrKey}`.
    public var path: String
    /// The path template, parsed by the decision module's own parser.
    public var template: Scopes.PathTemplate
    /// The name of an upstream of the same file.
    public var upstream: String
    /// Alternatives: a request holding ANY one of them (after implication) passes
    /// the scope test. Connect names upper-cased. Empty only on public routes.
    public var scopes: [String]
    /// The permission the acting user must hold; `nil` makes the route a scope test only.
    public var permission: String?
    /// The resource template the permission is checked on, e.g. `project:{projectKey}`
    /// or `project:{query.projectKey}`; `global` when `permission` is set without one.
    public var resource: String?
    /// Skips both tests and forwards anonymous requests too. Default `false`.
    public var isPublic: Bool
    /// Lets Connect JWTs whose `qsh` is `context-qsh` through. Default `false`.
    public var contextJwt: Bool
    /// Accepts an encoded `/` (`%2F`) inside a path segment. Default `false`: such a
    /// path is a 400, because a backend that decodes it before routing would run
    /// another operation than the one decided on.
    public var encodedSlash: Bool
    /// The one-segment path parameter that must be the calling app's key
    /// (`addonKey`): a request about another app's resource is a 403. Default `nil`.
    public var appKeyParameter: String?
    public var source: PolicyLocation

    public init(
        methods: [String], path: String, template: Scopes.PathTemplate, upstream: String, source: PolicyLocation
    ) {
        self.methods = methods
        self.path = path
        self.template = template
        self.upstream = upstream
        self.scopes = []
        self.isPublic = false
        self.contextJwt = false
        self.encodedSlash = false
        self.source = source
    }
}
