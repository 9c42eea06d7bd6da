import Scopes

/// Who a request acts as and which scopes it holds, per docs/gateway.md §3, before
/// the route's tests run.
///
/// A class, immutable: an identity is formed once per app or token and then
/// passed along a request's whole way (decision, headers, access log), and a
/// copy of a reference is one retain where a copy of its fields was one each.
/// Equal and hashed by value.
public final class Identity: Sendable, Hashable {
    /// Who acts, as the decision reads it: the facts below are read from it, formed
    /// once with the identity (an identity always has a user and implied scopes).
    public let principal: Principal
    /// `scopes` sorted and space-separated, as the gateway names them to a backend
    /// (`X-Linkgate-Scopes`) and in token answers; formed with the identity.
    public let scopeList: String

    public var credential: CredentialKind { principal.credential }
    public var appKey: String? { principal.appKey }
    public var user: ActingUser {
        guard let user = principal.user else { preconditionFailure("an identity is formed with a user") }
        return user
    }
    /// The scopes held, before implication.
    public var scopes: ScopeSet { principal.heldScopes }
    /// `scopes` after the policy's implication, formed with the identity so that a
    /// decision does not form them per request (`DecisionRequest.impliedScopes`).
    public var impliedScopes: ScopeSet {
        guard let implied = principal.impliedScopes else {
            preconditionFailure("an identity is formed with its implied scopes")
        }
        return implied
    }

    init(
        credential: CredentialKind, appKey: String?, user: ActingUser, scopes: ScopeSet,
        implication: ScopeImplication
    ) {
        self.principal = Principal(
            credential: credential, appKey: appKey, user: user, heldScopes: scopes,
            impliedScopes: implication.closure(of: scopes))
        self.scopeList = scopes.sorted.map(\.name).joined(separator: " ")
    }

    /// Equal by value: the principal holds every fact the identity is formed from
    /// (`scopeList` is made of `scopes`).
    public static func == (lhs: Identity, rhs: Identity) -> Bool {
        lhs === rhs || lhs.principal == rhs.principal
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(principal)
    }
}

/// Why no identity could be formed: each is a 401 `invalid_token` (docs/gateway.md §4).
public struct IdentityProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// Raw values are the snake_case reasons of the access log.
    public enum Code: String, Sendable {
        case unknownApp = "unknown_app"
        case appDisabled = "app_disabled"
        case unknownUser = "unknown_user"
        case userInactive = "user_inactive"
        case userRequired = "user_required"
        case appRequired = "app_required"
        case notAnOAuthClient = "not_an_oauth_client"
        case twoLeggedDisabled = "two_legged_disabled"
    }

    public let code: Code
    public let message: String

    public var description: String { message }
    /// The status the gateway answers with.
    public var status: Int { code == .userRequired || code == .appRequired ? 400 : 401 }

    /// The problem as the decision reports it, so `explain` and the gateway refuse alike.
    public var refusal: CredentialRefusal { CredentialRefusal(code: code.rawValue, message: message, status: status) }
}

extension CompiledPolicy {
    /// The identity behind a credential of `kind`, checked against the policy
    /// *now*: the app must exist and be enabled, the user exist and be active.
    /// - Parameters:
    ///   - accountId: the user a bearer token or Basic credential names; ignored
    ///     for Connect JWTs (they act as the app user) and for 2-legged OAuth 1.0a.
    ///   - requestedScopes: the token's scopes; nil means all the app may hold.
    public func identity(
        for kind: CredentialKind, appKey: String?, accountId: String?, requestedScopes: ScopeSet? = nil
    ) throws(IdentityProblem) -> Identity {
        if kind == .connectJWT, let appKey, let formed = connectIdentities[appKey] { return try formed.get() }
        return try formIdentity(for: kind, appKey: appKey, accountId: accountId, requestedScopes: requestedScopes)
    }

    /// `identity(for:…)` formed from the policy's apps and users.
    func formIdentity(
        for kind: CredentialKind, appKey: String?, accountId: String?, requestedScopes: ScopeSet? = nil
    ) throws(IdentityProblem) -> Identity {
        let app = try appKey.map { (key) throws(IdentityProblem) in try enabledApp(key) }
        switch kind {
        case .connectJWT:
            let app = try require(app)
            let user = try activeUser(app.appUser, role: "the app user of \(app.key)")
            return formed(kind, app: app.key, user: user, scopes: scopeSet(app.scopes))
        case .jwtBearer:
            let app = try require(app)
            let held = scopeSet(app.scopes)
            return formed(
                kind, app: app.key, user: try activeUser(accountId, role: "the user"),
                scopes: requestedScopes.map { covered($0, by: held) } ?? held)
        case .authorizationCode:
            let app = try require(app)
            guard let client = app.oauth2 else {
                throw IdentityProblem(
                    code: .notAnOAuthClient, message: "the app \(app.key) is not an OAuth 2.0 (3LO) client")
            }
            let held = scopeSet(client.scopes)
            return formed(
                kind, app: app.key, user: try activeUser(accountId, role: "the user"),
                scopes: requestedScopes.map { covered($0, by: held) } ?? held)
        case .basic:
            return formed(kind, app: nil, user: try activeUser(accountId, role: "the user"))
        case .oauth1ThreeLegged, .oauth1TwoLeggedImpersonation:
            let app = try require(app)
            return formed(kind, app: app.key, user: try activeUser(accountId, role: "the user"))
        case .oauth1TwoLegged:
            let app = try require(app)
            guard let twoLegged = app.oauth1?.twoLegged, twoLegged.enabled else {
                throw IdentityProblem(
                    code: .twoLeggedDisabled, message: "2-legged OAuth is not enabled for the app \(app.key)")
            }
            let user = try activeUser(twoLegged.executeAs, role: "the execute-as user of \(app.key)")
            return formed(kind, app: app.key, user: user)
        case .anonymous:
            throw IdentityProblem(code: .userRequired, message: "an anonymous request has no identity")
        }
    }

    /// An identity with its scopes implied by this policy's implication.
    private func formed(_ kind: CredentialKind, app: String?, user: ActingUser, scopes: ScopeSet = .empty) -> Identity {
        Identity(credential: kind, appKey: app, user: user, scopes: scopes, implication: decision.implication)
    }

    private func enabledApp(_ key: String) throws(IdentityProblem) -> AppPolicy {
        guard let app = app(key: key) else {
            throw IdentityProblem(code: .unknownApp, message: "no app has the key \(key)")
        }
        guard app.enabled else {
            throw IdentityProblem(code: .appDisabled, message: "the app \(key) is disabled")
        }
        return app
    }

    private func require(_ app: AppPolicy?) throws(IdentityProblem) -> AppPolicy {
        guard let app else { throw IdentityProblem(code: .appRequired, message: "this credential needs an app") }
        return app
    }

    private func activeUser(
        _ accountId: String?, role: @autoclosure () -> String
    ) throws(IdentityProblem) -> ActingUser {
        guard let accountId else {
            throw IdentityProblem(code: .userRequired, message: "this credential needs \(role())")
        }
        guard let record = user(accountId: accountId) else {
            throw IdentityProblem(code: .unknownUser, message: "no user has the account id \(accountId) (\(role()))")
        }
        guard record.active else {
            throw IdentityProblem(code: .userInactive, message: "the user \(accountId) (\(role())) is inactive")
        }
        return ActingUser(accountId: record.accountId, groups: record.groups)
    }

    /// The token's scopes that the app's scopes still cover now, after
    /// implication: a token for `READ` keeps it while the app holds `WRITE`.
    private func covered(_ requested: ScopeSet, by held: ScopeSet) -> ScopeSet {
        let reach = decision.implication.closure(of: held)
        return ScopeSet(requested.filter { reach.contains($0) })
    }

    private func scopeSet(_ names: [String]) -> ScopeSet {
        ScopeSet(names.map { Scope($0) })
    }
}
