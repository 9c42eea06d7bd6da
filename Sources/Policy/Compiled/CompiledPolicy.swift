import JWT
import Scopes

/// A loaded policy folder compiled for deciding requests: the route matcher,
/// permission table and scope implication of the `Scopes` module, each app's
/// Connect key (HMAC context prepared once), and users by account id.
///
/// Immutable and `Sendable`: the server builds a new one off the request path
/// and swaps it in atomically on reload.
public struct CompiledPolicy: Sendable {
    public let document: PolicyDocument
    public let decision: DecisionPolicy
    private let appsByKey: [String: AppPolicy]
    private let usersByAccountId: [String: UserRecord]
    private let connectKeys: [String: JWTKey]
    private let oauth1Consumers: [String: OAuth1ConsumerKey]
    /// Each app's identity for its Connect JWTs, or why it has none, formed once:
    /// it depends on nothing but the policy (docs/gateway.md §3).
    private(set) var connectIdentities: [String: Result<Identity, IdentityProblem>] = [:]

    /// Compiles a document that `PolicyLoader.load` accepted.
    /// - Throws: `PolicyLoadError` for what only compilation can find (an RSA or
    ///   secret the key layer refuses), each at its file and pointer.
    public init(_ document: PolicyDocument) throws(PolicyLoadError) {
        var problems: [PolicyProblem] = []
        let routes = Self.routeRules(document.routes, problems: &problems)
        let implication = Self.implication(document.scopeImplications, problems: &problems)
        let connectKeys = Self.connectKeys(document.apps, problems: &problems)
        let oauth1Consumers = Self.oauth1Consumers(document.apps, problems: &problems)
        guard problems.isEmpty, let routes, let implication else { throw PolicyLoadError(problems: problems) }
        self.document = document
        self.decision = DecisionPolicy(
            implication: implication, permissions: PermissionTable(document.grants.map(\.permissionGrant)),
            routes: routes)
        self.appsByKey = Dictionary(document.apps.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        self.usersByAccountId = Dictionary(
            document.users.map { ($0.accountId, $0) }, uniquingKeysWith: { first, _ in first })
        self.connectKeys = connectKeys
        self.oauth1Consumers = oauth1Consumers
        self.connectIdentities = Dictionary(
            uniqueKeysWithValues: appsByKey.keys.map { key in
                (
                    key,
                    Result { () throws(IdentityProblem) in
                        try formIdentity(for: .connectJWT, appKey: key, accountId: nil)
                    }
                )
            })
    }

    /// The application link whose `oauth1.consumerKey` is `key`, with its RSA public key.
    public func oauth1Consumer(key: String) -> OAuth1ConsumerKey? { oauth1Consumers[key] }

    public func app(key: String) -> AppPolicy? { appsByKey[key] }
    public func user(accountId: String) -> UserRecord? { usersByAccountId[accountId] }

    /// The HS256 key that verifies the Connect JWTs of the app `key`, if it has a shared secret.
    public func connectKey(forApp key: String) -> JWTKey? { connectKeys[key] }

    /// The user as the decision module sees it, or nil when unknown.
    public func actingUser(accountId: String) -> ActingUser? {
        usersByAccountId[accountId].map { ActingUser(accountId: $0.accountId, groups: $0.groups) }
    }

    /// The base path removed from request paths before the `qsh` is formed.
    public var basePath: String { CanonicalRequest.basePath(ofBaseURL: document.gateway.baseUrl) }
}

extension CompiledPolicy {
    static func routeRules(_ specs: [RouteSpec], problems: inout [PolicyProblem]) -> RouteTable? {
        let rules = ruleList(specs, problems: &problems)
        do {
            return try RouteTable(rules)
        } catch {
            problems.append(problem(error, routes: specs))
            return nil
        }
    }

    /// The rules of `routes.json` in the decision module's terms, in file order.
    static func ruleList(_ specs: [RouteSpec], problems: inout [PolicyProblem]) -> [RouteRule] {
        specs.enumerated().compactMap { index, spec in
            do {
                return try RouteRule(
                    index: index, methods: spec.methods, path: spec.path, upstream: spec.upstream,
                    scopes: spec.scopes.map { Scope($0) }, permission: spec.permission, resource: spec.resource,
                    isPublic: spec.isPublic, contextJWT: spec.contextJwt, allowsEncodedSlash: spec.encodedSlash,
                    appKeyParameter: spec.appKeyParameter)
            } catch let error as ScopesError {
                problems.append(PolicyProblem(at: spec.source, error.reason))
                return nil
            } catch {
                problems.append(PolicyProblem(at: spec.source, "\(error)"))
                return nil
            }
        }
    }

    /// Route ties found by the same matcher that serves requests, so `check` and
    /// the gateway can never disagree on what a tie is.
    @Sendable
    static func routeTieProblems(_ specs: [RouteSpec]) -> [PolicyProblem] {
        var problems: [PolicyProblem] = []
        let rules = ruleList(specs, problems: &problems)
        guard problems.isEmpty else { return [] }  // the loader reports malformed routes itself
        return RouteTable.problems(in: rules).map { problem($0, routes: specs) }
    }

    private static func problem(_ error: ScopesError, routes: [RouteSpec]) -> PolicyProblem {
        guard let index = error.ruleIndex, routes.indices.contains(index) else {
            return PolicyProblem(file: RoutesFile.name, pointer: "/routes", message: error.reason)
        }
        return PolicyProblem(at: routes[index].source, error.reason)
    }

    static func implication(_ specs: [ScopeImplicationSpec], problems: inout [PolicyProblem]) -> ScopeImplication? {
        var edges: [Scope: [Scope]] = [:]
        for spec in specs { edges[Scope(spec.scope), default: []] += spec.implies.map { Scope($0) } }
        do {
            return try ScopeImplication(implies: edges)
        } catch {
            problems.append(PolicyProblem(file: ScopesFile.name, pointer: "/implies", message: error.reason))
            return nil
        }
    }

    static func connectKeys(_ apps: [AppPolicy], problems: inout [PolicyProblem]) -> [String: JWTKey] {
        var keys: [String: JWTKey] = [:]
        for app in apps {
            guard let secret = app.sharedSecret else { continue }
            do {
                keys[app.key] = try JWTKey.secret(secret.bytes, algorithm: .hs256)
            } catch {
                problems.append(PolicyProblem(at: app.source.appending("sharedSecret"), error.reason))
            }
        }
        return keys
    }
}

extension CompiledPolicy {
    static func oauth1Consumers(_ apps: [AppPolicy], problems: inout [PolicyProblem]) -> [String: OAuth1ConsumerKey] {
        var consumers: [String: OAuth1ConsumerKey] = [:]
        for app in apps {
            guard let link = app.oauth1 else { continue }
            do {
                consumers[link.consumerKey] = OAuth1ConsumerKey(
                    appKey: app.key, consumerKey: link.consumerKey, key: try RSASHA1Key(pem: link.publicKeyPEM))
            } catch {
                problems.append(PolicyProblem(at: link.source.appending("publicKeyFile"), error.reason))
            }
        }
        return consumers
    }
}

extension PolicyLoader {
    /// Loads, checks and compiles a policy folder: what `check`, `explain`,
    /// `token` and the server all use, so they agree on what a valid policy is.
    public static func compile(folder: String, environment: [String: String]) throws(PolicyLoadError) -> CompiledPolicy
    {
        let document = try load(folder: folder, environment: environment, routeTies: CompiledPolicy.routeTieProblems)
        return try CompiledPolicy(document)
    }
}
