import JWT
import Policy

/// The site as a Connect app learns it from a lifecycle callback
/// (docs/connect-install.md, docs/protocols.md §7).
public struct LifecycleSite: Sendable, Equatable {
    /// The site's id: the payload's `clientKey` and the token's `iss`.
    public var clientKey: String
    /// The site's URL, the one the app calls (`gateway.json`'s `baseUrl`).
    public var baseUrl: String
    /// The payload's `description`: the site's name.
    public var description: String
    public var productType: String

    public init(clientKey: String, baseUrl: String, description: String, productType: String = "jira") {
        self.clientKey = clientKey
        self.baseUrl = baseUrl
        self.description = description
        self.productType = productType
    }
}

/// One lifecycle callback to a Connect app, ready to send: `POST url` with a JSON
/// body and `Authorization: JWT <token>`, the token signed RS256 with the install
/// key (`kid` in its header) and bound to that POST by its `qsh`
/// (docs/connect-install.md, docs/protocols.md §2 and §7).
public struct LifecycleCallback: Sendable {
    public enum Event: String, Sendable, CaseIterable {
        case installed, uninstalled, enabled, disabled
    }

    public let event: Event
    /// `<app baseUrl><lifecycle path>`.
    public let url: String
    /// The JSON payload.
    public let body: [UInt8]
    /// The value of the `Authorization` header: `JWT <token>`.
    public let authorization: String
    /// The token's claims, for tests and messages.
    public let claims: JSONObject

    /// How long the token is valid.
    public static let lifetime: Int64 = 180

    /// The callback for `event`, or nil when the app's descriptor names no path for it.
    /// - Parameters:
    ///   - sharedSecret: sent with `installed` only.
    ///   - key: the install key (RS256, with its `kid`).
    public static func make(
        _ event: Event, appKey: String, lifecycle: ConnectLifecycle, site: LifecycleSite,
        sharedSecret: String? = nil, oauthClientId: String? = nil, key: JWTKey, issuedAt: Int64 = UnixTime.now()
    ) throws(JWTError) -> LifecycleCallback? {
        guard let path = lifecycle.paths[event.rawValue], let url = lifecycle.url(of: event.rawValue) else {
            return nil
        }
        var payload = JSONObject()
        payload["key"] = .string(appKey)
        payload["clientKey"] = .string(site.clientKey)
        if event == .installed, let sharedSecret { payload["sharedSecret"] = .string(sharedSecret) }
        payload["baseUrl"] = .string(site.baseUrl)
        payload["displayUrl"] = .string(site.baseUrl)
        payload["productType"] = .string(site.productType)
        payload["description"] = .string(site.description)
        payload["eventType"] = .string(event.rawValue)
        if let oauthClientId { payload["oauthClientId"] = .string(oauthClientId) }

        // The qsh is of the path under the app's baseUrl, as the app sees its own routes.
        let question = path.firstIndex(of: "?")
        let rawPath = question.map { path[..<$0] } ?? path[...]
        let rawQuery = question.map { path[path.index(after: $0)...] } ?? ""
        let canonical = try CanonicalRequest(method: "POST", rawPath: rawPath, rawQuery: rawQuery)
        var claims = JSONObject()
        claims["iss"] = .string(site.clientKey)
        claims["aud"] = .string(lifecycle.baseUrl)
        claims["iat"] = .integer(issuedAt)
        claims["exp"] = .integer(issuedAt + lifetime)
        claims["qsh"] = .string(canonical.queryStringHash)
        let token = try JWTSigner(key: key).sign(claims)
        return LifecycleCallback(
            event: event, url: url, body: JSONValue.object(payload).serializedBytes(),
            authorization: "JWT " + token, claims: claims)
    }
}
