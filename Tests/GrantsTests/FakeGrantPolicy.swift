import Grants
import Policy

/// A policy for the grants' tests, as a table: the assertion clients, the apps'
/// scopes (no implication), the users and the application links.
struct FakeGrantPolicy: GrantPolicy {
    var clients: [String: AssertionClient] = [:]
    var scopes: [String: [String]] = [:]
    var users: [String: UserStatus] = [:]
    var consumers: [String: OAuth1ConsumerKey] = [:]
    /// Every user is active, however unknown.
    var everyoneActive = false

    /// A policy in which every user may act.
    static let everyoneActive = FakeGrantPolicy(everyoneActive: true)

    func assertionClient(clientID: String) -> AssertionClient? { clients[clientID] }

    func appScopes(appKey: String) -> AppScopes {
        let names = scopes[appKey] ?? []
        return AppScopes(names: names, covers: { wanted in names.contains { $0.uppercased() == wanted.uppercased() } })
    }

    var appUsers: [String: String] = [:]

    func appKey(ofAppUser accountId: String) -> String? { appUsers[accountId] }

    func userStatus(accountId: String) -> UserStatus { everyoneActive ? .active : users[accountId] ?? .unknown }

    func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey? { consumers[consumerKey] }
}
