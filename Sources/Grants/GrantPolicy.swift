import JWT
import Policy

/// What the grants read from the policy in force: the apps that sign JWT bearer
/// assertions, the scopes apps hold, whether a user may act, and the application
/// links. The gateway's `CompiledPolicy` is one; the grants read it at the moment
/// of each exchange, so a policy change reaches the next one.
public protocol GrantPolicy: Sendable {
    /// The app whose `oauthClientId` is `clientID` (the `iss` of its 2LOi
    /// assertions), with the key its assertions are signed with.
    func assertionClient(clientID: String) -> AssertionClient?
    /// The Connect scopes the app `appKey` holds now (none for an unknown app).
    func appScopes(appKey: String) -> AppScopes
    /// Whether the user may act now.
    func userStatus(accountId: String) -> UserStatus
    /// The app whose app user (`appUser`) is `accountId`, if any: no other app may act as it.
    func appKey(ofAppUser accountId: String) -> String?
    /// The application link whose `oauth1.consumerKey` is `consumerKey`, with its RSA public key.
    func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey?
}

/// What the policy says now about a user a grant names.
public enum UserStatus: Sendable { case active, inactive, unknown }

/// An app that signs JWT bearer assertions, as the policy says now.
public struct AssertionClient: Sendable {
    public let appKey: String
    /// HS256 over the app's shared secret.
    public let key: JWTKey
    public let enabled: Bool
    /// Whether the app holds `ACT_AS_USER`.
    public let canActAsUser: Bool

    public init(appKey: String, key: JWTKey, enabled: Bool, canActAsUser: Bool) {
        self.appKey = appKey
        self.key = key
        self.enabled = enabled
        self.canActAsUser = canActAsUser
    }
}

/// An app's Connect scopes as its policy says now.
public struct AppScopes: Sendable {
    public let names: [String]
    /// Whether the names cover a scope after implication (`WRITE` covers `READ`).
    public let covers: @Sendable (String) -> Bool

    public init(names: [String], covers: @escaping @Sendable (String) -> Bool) {
        self.names = names
        self.covers = covers
    }
}
