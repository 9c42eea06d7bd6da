/// Who a request acts as, as the decision reads it: the credential's kind, its
/// app, its user and scopes. Immutable, and compared and hashed by value.
public final class Principal: Hashable, Sendable {
    public let credential: CredentialKind
    public let appKey: String?
    public let user: ActingUser?
    public let heldScopes: ScopeSet
    public let impliedScopes: ScopeSet?

    public init(
        credential: CredentialKind, appKey: String?, user: ActingUser?, heldScopes: ScopeSet,
        impliedScopes: ScopeSet?
    ) {
        self.credential = credential
        self.appKey = appKey
        self.user = user
        self.heldScopes = heldScopes
        self.impliedScopes = impliedScopes
    }

    /// No credential: no app, no user, no scopes.
    public static let anonymous = Principal(
        credential: .anonymous, appKey: nil, user: nil, heldScopes: .empty, impliedScopes: nil)

    public static func == (lhs: Principal, rhs: Principal) -> Bool {
        lhs === rhs
            || (lhs.credential == rhs.credential && lhs.appKey == rhs.appKey && lhs.user == rhs.user
                && lhs.heldScopes == rhs.heldScopes && lhs.impliedScopes == rhs.impliedScopes)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(credential)
        hasher.combine(appKey)
        hasher.combine(user)
        hasher.combine(heldScopes)
        hasher.combine(impliedScopes)
    }
}
