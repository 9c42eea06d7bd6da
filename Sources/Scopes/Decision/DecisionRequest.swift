/// Everything the decision needs to know about one request, after its
/// credential has been verified.
///
/// The caller has already refused disabled apps, inactive users, revoked
/// tokens and paths that do not normalise to themselves (docs/gateway.md §3, §4;
/// docs/protocols.md §5): the decision looks at routes, scopes and permissions only.
public struct DecisionRequest: Hashable, Sendable {
    public let credential: CredentialKind
    /// The app the credential belongs to; `nil` for Basic and anonymous requests.
    public let appKey: String?
    /// Who the request runs as; `nil` only for anonymous requests.
    public let user: ActingUser?
    /// The credential's scopes before implication (for a bearer token, already
    /// intersected with what the app may have now).
    public let heldScopes: ScopeSet
    public let method: String
    /// The path as received, still percent-encoded, without the query.
    public let rawPath: Substring
    /// The query as received, without `?`; `nil` when the target has none.
    public let rawQuery: Substring?
    /// `heldScopes` after the policy's implication, when the caller formed them
    /// with it already (an `Identity` does, once per app or token); `nil` lets the
    /// scope check form them.
    public var impliedScopes: ScopeSet?
    /// A Connect context token (`qsh` = `context-qsh`): valid only on `contextJwt` routes.
    public var isContextToken = false
    /// Set when the credential was refused before deciding (an unknown or disabled
    /// app, an inactive user): the decision then denies with it before any route is
    /// looked at, as the gateway does.
    public var credentialRefusal: CredentialRefusal?

    public init(
        credential: CredentialKind, appKey: String? = nil, user: ActingUser?,
        heldScopes: ScopeSet = .empty, method: String, rawPath: Substring, rawQuery: Substring? = nil
    ) {
        self.credential = credential
        self.appKey = appKey
        self.user = user
        self.heldScopes = heldScopes
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
    }

    /// Same, from a request target (`/path?query`), split at the first `?`.
    public init(
        credential: CredentialKind, appKey: String? = nil, user: ActingUser?,
        heldScopes: ScopeSet = .empty, method: String, target: String
    ) {
        let question = target.firstIndex(of: "?")
        self.init(
            credential: credential, appKey: appKey, user: user, heldScopes: heldScopes, method: method,
            rawPath: question.map { target[..<$0] } ?? target[...],
            rawQuery: question.map { target[target.index(after: $0)...] })
    }
}
