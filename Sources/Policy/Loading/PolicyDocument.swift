/// A policy folder, loaded and checked: everything the gateway decides with.
///
/// An immutable value, so a server can build a new one off the request path on
/// reload and swap it in atomically. Holds plain validated data; compiling it
/// for fast decisions is the decision module's work.
public struct PolicyDocument: Sendable, Equatable {
    /// The folder it was loaded from, as given.
    public let folder: String
    public let gateway: GatewaySettings
    /// Sorted by file name.
    public let apps: [AppPolicy]
    public let users: [UserRecord]
    public let grants: [PermissionGrantSpec]
    public let upstreams: [UpstreamSpec]
    /// In file order.
    public let routes: [RouteSpec]
    /// From `scopes.json`; empty without one. The built-in Connect implications
    /// are not listed here (see `ScopeNames.connectImplications`).
    public let scopeImplications: [ScopeImplicationSpec]

    public init(
        folder: String, gateway: GatewaySettings, apps: [AppPolicy], users: [UserRecord], grants: [PermissionGrantSpec],
        upstreams: [UpstreamSpec], routes: [RouteSpec], scopeImplications: [ScopeImplicationSpec]
    ) {
        self.folder = folder
        self.gateway = gateway
        self.apps = apps
        self.users = users
        self.grants = grants
        self.upstreams = upstreams
        self.routes = routes
        self.scopeImplications = scopeImplications
    }

    /// The app whose key is `key`.
    public func app(key: String) -> AppPolicy? {
        apps.first { $0.key == key }
    }

    /// The user whose account id is `accountId`.
    public func user(accountId: String) -> UserRecord? {
        users.first { $0.accountId == accountId }
    }

    public func upstream(named name: String) -> UpstreamSpec? {
        upstreams.first { $0.name == name }
    }

    /// `N apps, N routes, N upstreams`, for the startup and `check` summaries.
    public var summary: String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return [
            count(apps.count, "app"), count(routes.count, "route"), count(upstreams.count, "upstream"),
            count(users.count, "user"), count(grants.count, "grant"),
        ].joined(separator: ", ")
    }
}
