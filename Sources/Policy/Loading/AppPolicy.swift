/// One linked app, from `apps/*.json` (docs/policies.md §4).
public struct AppPolicy: Sendable, Equatable {
    /// The app key: the `iss` of its Connect JWTs.
    public var key: String
    /// For people (consent page, `explain`). Defaults to the key.
    public var name: String
    /// `false` closes the door: every token, grant and consent of the app stops working.
    public var enabled: Bool
    /// Signs the app's Connect JWTs and 2LOi assertions (HS256), at least 32 bytes.
    /// `nil` for an app that only uses OAuth 2.0 3LO or OAuth 1.0a.
    public var sharedSecret: Secret?
    /// Names the app in 2LOi assertions: `iss = urn:atlassian:connect:clientid:<id>`.
    public var oauthClientId: String?
    /// The app's Connect scopes: the most it may ever do. Connect names are
    /// upper-cased here (they are case-insensitive); other names are kept as written.
    public var scopes: [String]
    /// The account id of the app's own user; required with a `sharedSecret`.
    public var appUser: String?
    /// Makes the app an OAuth 2.0 authorization code (3LO) client.
    public var oauth2: OAuth2Client?
    /// Makes the app an OAuth 1.0a application-link consumer.
    public var oauth1: OAuth1Consumer?
    /// Where the lifecycle callbacks of an app installed from its Connect descriptor go.
    public var connect: ConnectLifecycle?
    public var source: PolicyLocation

    public init(key: String, source: PolicyLocation) {
        self.key = key
        self.name = key
        self.enabled = true
        self.scopes = []
        self.source = source
    }
}

/// The `connect` member of an app installed with `linkgate app install`
/// (docs/connect-install.md): the app's base URL and its lifecycle paths, which
/// `app uninstall`, `app disable` and `app enable` call.
public struct ConnectLifecycle: Sendable, Equatable {
    /// The lifecycle events a descriptor may name, in this order.
    public static let events = ["installed", "uninstalled", "enabled", "disabled"]

    /// The app's `baseUrl`, without a trailing `/`.
    public var baseUrl: String
    /// Event → path under `baseUrl` (`/installed`); only the events the descriptor names.
    public var paths: [String: String]
    /// Where the descriptor was read from (a URL or a file), for people.
    public var descriptor: String?

    public init(baseUrl: String, paths: [String: String], descriptor: String? = nil) {
        self.baseUrl = baseUrl
        self.paths = paths
        self.descriptor = descriptor
    }

    /// The URL a lifecycle event is sent to, or nil when the descriptor names no path for it.
    public func url(of event: String) -> String? {
        paths[event].map { baseUrl + $0 }
    }
}

/// An app's OAuth 2.0 3LO client registration.
public struct OAuth2Client: Sendable, Equatable {
    public var clientId: String
    /// Required unless the client is public.
    public var clientSecret: Secret?
    /// A public client has no secret and must use PKCE. Default `false`.
    public var isPublic: Bool
    /// Registered callbacks; a `redirect_uri` must equal one exactly.
    public var redirectUris: [String]
    /// The 3LO scopes the app may ask users to consent to.
    public var scopes: [String]
    public var source: PolicyLocation

    public init(clientId: String, source: PolicyLocation) {
        self.clientId = clientId
        self.isPublic = false
        self.redirectUris = []
        self.scopes = []
        self.source = source
    }
}

/// An app's OAuth 1.0a application link (RSA-SHA1).
public struct OAuth1Consumer: Sendable, Equatable {
    public var consumerKey: String
    /// The PEM file, relative to the policy folder, as written.
    public var publicKeyFile: String
    /// The PEM text of that file, read when the policy was loaded.
    public var publicKeyPEM: String
    /// The default callback, when a request token does not name one.
    public var callback: String?
    public var twoLegged: TwoLegged
    /// Whether 2-legged requests may name a user with `xoauth_requestor_id`. Default `false`.
    public var twoLeggedImpersonation: Bool
    public var source: PolicyLocation

    public init(consumerKey: String, publicKeyFile: String, publicKeyPEM: String, source: PolicyLocation) {
        self.consumerKey = consumerKey
        self.publicKeyFile = publicKeyFile
        self.publicKeyPEM = publicKeyPEM
        self.twoLegged = TwoLegged()
        self.twoLeggedImpersonation = false
        self.source = source
    }
}

/// 2-legged OAuth 1.0a: signed requests without a user token.
public struct TwoLegged: Sendable, Equatable {
    /// Default `false`.
    public var enabled: Bool
    /// The account id such requests run as; required when enabled.
    public var executeAs: String?

    public init(enabled: Bool = false, executeAs: String? = nil) {
        self.enabled = enabled
        self.executeAs = executeAs
    }
}
