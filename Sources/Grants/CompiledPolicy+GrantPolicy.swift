import Policy
import Scopes

extension CompiledPolicy: GrantPolicy {
    public func assertionClient(clientID: String) -> AssertionClient? {
        guard let app = document.apps.first(where: { $0.oauthClientId == clientID }),
            let key = connectKey(forApp: app.key)
        else { return nil }
        return AssertionClient(
            appKey: app.key, key: key, enabled: app.enabled,
            canActAsUser: app.scopes.contains { $0.uppercased() == "ACT_AS_USER" })
    }

    public func appScopes(appKey: String) -> AppScopes {
        let names = app(key: appKey)?.scopes ?? []
        let reach = decision.implication.closure(of: ScopeSet(names.map { Scope($0) }))
        return AppScopes(names: names, covers: { reach.contains(Scope($0)) })
    }

    public func userStatus(accountId: String) -> UserStatus {
        guard let user = user(accountId: accountId) else { return .unknown }
        return user.active ? .active : .inactive
    }

    public func appKey(ofAppUser accountId: String) -> String? {
        document.apps.first { $0.appUser == accountId }?.key
    }

    public func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey? { oauth1Consumer(key: consumerKey) }
}
