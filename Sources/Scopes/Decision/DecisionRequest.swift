/// Everything the decision needs to know about one request, after its
/// credential has been verified.
///
/// The caller has already refused disabled apps, inactive users, revoked
/// tokens and paths that do not normalise to themselves (docs/gateway.md §3, §4;
/// docs/protocols.md §5): the decision looks at routes, scopes and permissions only.
public struct DecisionRequest: Hashable, Sendable {
    /// Who acts: one reference, so a request is copied with one retain for it.
    public private(set) var principal: Principal
    public var credential: CredentialKind { principal.credential }
    /// The app the credential belongs to; `nil` for Basic and anonymous requests.
    public var appKey: String? { principal.appKey }
    /// Who the request runs as; `nil` only for anonymous requests.
    public var user: ActingUser? { principal.user }
    /// The credential's scopes before implication (for a bearer token, already
    /// intersected with what the app may have now).
    public var heldScopes: ScopeSet { principal.heldScopes }
    public let method: String
    /// The path as received, still percent-encoded, without the query.
    public let rawPath: Substring
    /// The query as received, without `?`; `nil` when the target has none.
    public let rawQuery: Substring?
    /// `heldScopes` after the policy's implication, when the caller formed them
    /// with it already (an `Identity` does, once per app or token); `nil` lets the
    /// scope check form them.
    public var impliedScopes: ScopeSet? {
        get { principal.impliedScopes }
        set {
            principal = Principal(
                credential: credential, appKey: appKey, user: user, heldScopes: heldScopes, impliedScopes: newValue)
        }
    }
    /// A Connect context token (`qsh` = `context-qsh`): valid only on `contextJwt` routes.
    public var isContextToken = false
    /// Set when the credential was refused before deciding (an unknown or disabled
    /// app, an inactive user): the decision then denies with it before any route is
    /// looked at, as the gateway does.
    public var credentialRefusal: CredentialRefusal?

    public init(
        credential: CredentialKind, appKey: String? = nil, user: ActingUser?,
        heldScopes: ScopeSet = .empty, method: String, rawPath: Substring, rawQuery: Substring? = nil,
        impliedScopes: ScopeSet? = nil, isContextToken: Bool = false
    ) {
        self.init(
            principal: Principal(
                credential: credential, appKey: appKey, user: user, heldScopes: heldScopes,
                impliedScopes: impliedScopes),
            method: method, rawPath: rawPath, rawQuery: rawQuery, isContextToken: isContextToken)
    }

    /// A request made by `principal`, formed beforehand (the gateway forms one per
    /// app or token and keeps it with the identity).
    public init(
        principal: Principal, method: String, rawPath: Substring, rawQuery: Substring?, isContextToken: Bool = false
    ) {
        self.principal = principal
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.isContextToken = isContextToken
    }

    /// Same, from a request target (`/path?query`), split at the first `?`.
    public init(
        credential: CredentialKind, appKey: String? = nil, user: ActingUser?,
        heldScopes: ScopeSet = .empty, method: String, target: String
    ) {
        self.init(
            principal: Principal(
                credential: credential, appKey: appKey, user: user, heldScopes: heldScopes, impliedScopes: nil),
            method: method, target: target)
    }

    /// A request made by `principal`, from a request target split at the first `?`.
    public init(principal: Principal, method: String, target: String) {
        let question = target.firstIndex(of: "?")
        self.init(
            principal: principal, method: method, rawPath: question.map { target[..<$0] } ?? target[...],
            rawQuery: question.map { target[target.index(after: $0)...] })
    }
}
