import Grants
import JWT
import Policy
import Scopes

/// OAuth 1.0a signed requests on the proxy (docs/gateway.md §3, docs/protocols.md §6): a
/// 3-legged token acts as its user, 2-legged as the link's `executeAs`, 2-legged
/// with `xoauth_requestor_id` (or `user_id`) as that user where the link allows
/// impersonation. No scope test; the user's permissions apply. An access token the
/// store vouched for is answered from memory (`GrantServices.liveOAuth1AccessToken`).
struct OAuth1Authentication: Sendable {
    let grants: GrantServices

    /// A request whose every check passed and whose identity is known: it is trusted
    /// once its nonce is spent (`spent`).
    struct Checked {
        let identity: Identity
        let nonce: OAuth1Nonce
    }

    /// Verifies a signed request: its checks, its identity, then its nonce, spent last
    /// so that a refused request does not use it up.
    func authenticate(
        _ header: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) async throws(GatewayError) -> Authenticated {
        let realm = snapshot.policy.document.gateway.baseUrl
        let checked: Checked
        do {
            let verified = try check(header, request: request, snapshot: snapshot)
            let identity = try await Self.identity(verified.request, policy: snapshot.policy, grants: grants)
            checked = Checked(identity: identity, nonce: verified.nonce)
        } catch let problem as OAuth1Problem {
            throw GatewayError(problem, realm: realm)
        } catch is StoreError {
            grants.metrics?.storeError()
            throw .storeUnavailable
        } catch {
            throw .unexpected(error)
        }
        let outcome: Result<Bool, StoreError>
        do {
            outcome = .success(
                try await snapshot.grants.oauth1.nonces.spend(checked.nonce.key, expiresAt: checked.nonce.expiresAt))
        } catch {
            outcome = .failure(error)
        }
        return try spent(outcome, checked, snapshot: snapshot)
    }

    /// `authenticate` without its waits, for the fast path: every check, and the
    /// identity when memory knows it (2-legged, or an access token the store vouched
    /// for recently). Nil when the store must be asked for the token: `authenticate` answers.
    /// The caller spends the nonce and passes the outcome to `spent`.
    /// - Throws: `GatewayError`, as `authenticate` would.
    func checkFromMemory(
        _ header: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) throws(GatewayError) -> Checked? {
        do {
            let verified = try check(header, request: request, snapshot: snapshot)
            var accessToken: OAuth1TokenRecord?
            if case .threeLegged(let token) = verified.request.flow {
                guard let cached = grants.oauth1Tokens.lookup(token, revocations: grants.revocations) else {
                    return nil
                }
                accessToken = cached
            }
            let identity = try Self.identity(verified.request, policy: snapshot.policy, accessToken: accessToken)
            return Checked(identity: identity, nonce: verified.nonce)
        } catch {
            throw GatewayError(error, realm: snapshot.policy.document.gateway.baseUrl)
        }
    }

    /// The outcome of spending a checked request's nonce: the request's identity when
    /// the nonce was new; otherwise `nonce_used`, or 503 when the store could not say.
    func spent(
        _ outcome: Result<Bool, StoreError>, _ checked: Checked, snapshot: PolicySnapshot
    ) throws(GatewayError) -> Authenticated {
        switch outcome {
        case .success(true):
            return Authenticated(identity: checked.identity)
        case .success(false):
            throw GatewayError(OAuth1Problem.spentNonce, realm: snapshot.policy.document.gateway.baseUrl)
        case .failure:
            grants.metrics?.storeError()
            throw .storeUnavailable
        }
    }

    /// Every check of docs/protocols.md §6 but the nonce's.
    private func check(
        _ header: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) throws(OAuth1Problem) -> CheckedOAuth1Request {
        let compiled = snapshot.policy
        let signed = try OAuth1Request(
            header: header, method: request.method, baseURL: compiled.document.gateway.baseUrl,
            rawPath: request.rawPath, rawQuery: request.rawQuery, formBody: request.formBody)
        return try snapshot.grants.oauth1.check(signed, policy: compiled)
    }

    /// Whom a verified request acts as; a 3-legged token is read from memory or the store.
    static func identity(
        _ verified: VerifiedOAuth1Request, policy: CompiledPolicy, grants: GrantServices
    ) async throws -> Identity {
        _ = try link(of: verified, policy: policy)
        var accessToken: OAuth1TokenRecord?
        if case .threeLegged(let token) = verified.flow {
            // Issued to this consumer, not revoked, not expired: from memory when the store
            // vouched for it recently (docs/links.md).
            accessToken = try await grants.liveOAuth1AccessToken(token, consumerKey: verified.consumer.consumerKey)
        }
        return try identity(verified, policy: policy, accessToken: accessToken)
    }

    /// Whom a verified request acts as, given its live access token when it is 3-legged.
    static func identity(
        _ verified: VerifiedOAuth1Request, policy: CompiledPolicy, accessToken: OAuth1TokenRecord?
    ) throws(OAuth1Problem) -> Identity {
        let appKey = verified.consumer.appKey
        let link = try link(of: verified, policy: policy)
        let kind: CredentialKind
        let accountId: String?
        switch verified.flow {
        case .twoLegged(let requestor?):
            guard link.twoLeggedImpersonation else {
                throw OAuth1Problem(.permissionDenied, "the application link \(appKey) may not impersonate users")
            }
            guard let user = policy.user(named: requestor) else {
                throw OAuth1Problem(.permissionDenied, "no user is named \(requestor.prefix(80))")
            }
            (kind, accountId) = (.oauth1TwoLeggedImpersonation, user.accountId)
        case .twoLegged(nil):
            guard link.twoLegged.enabled else {
                throw OAuth1Problem(
                    .permissionDenied, "2-legged OAuth is not enabled for the application link \(appKey)")
            }
            (kind, accountId) = (.oauth1TwoLegged, nil)
        case .threeLegged:
            guard let accessToken, accessToken.consumerKey == verified.consumer.consumerKey else {
                throw OAuth1Problem(.tokenRejected, "the access token is not one this site issued to this consumer")
            }
            (kind, accountId) = (.oauth1ThreeLegged, accessToken.accountId)
        }
        do {
            return try policy.identity(for: kind, appKey: appKey, accountId: accountId)
        } catch {
            throw OAuth1Problem(.permissionDenied, error.message)
        }
    }

    /// The enabled application link the request's consumer belongs to.
    private static func link(
        of verified: VerifiedOAuth1Request, policy: CompiledPolicy
    ) throws(OAuth1Problem) -> OAuth1Consumer {
        let appKey = verified.consumer.appKey
        guard let app = policy.app(key: appKey), let link = app.oauth1 else {
            throw OAuth1Problem(.consumerKeyUnknown, "the application link is gone")
        }
        guard app.enabled else {
            throw OAuth1Problem(.consumerKeyUnknown, "the application link \(appKey) is disabled")
        }
        return link
    }
}

extension CompiledPolicy {
    /// A user by account id, name or email (how `xoauth_requestor_id` names users).
    func user(named name: String) -> UserRecord? {
        user(accountId: name) ?? user(login: name)
    }

    /// A user by the login people type: the user name or the email, case-insensitively
    /// (the login form and HTTP Basic).
    func user(login: String) -> UserRecord? {
        let wanted = login.lowercased()
        return document.users.first { $0.name.lowercased() == wanted || $0.email?.lowercased() == wanted }
    }
}
