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

    func authenticate(
        _ header: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) async throws(GatewayError) -> Authenticated {
        let compiled = snapshot.policy
        let realm = compiled.document.gateway.baseUrl
        do {
            let signed = try OAuth1Request(
                header: header, method: request.method, baseURL: realm, rawPath: request.rawPath,
                rawQuery: request.rawQuery, formBody: request.formBody)
            let verified = try await snapshot.grants.oauth1.verify(signed, policy: compiled)
            let identity = try await Self.identity(verified, policy: compiled, grants: grants)
            return Authenticated(identity: identity)
        } catch let problem as OAuth1Problem {
            throw GatewayError(problem, realm: realm)
        } catch is StoreError {
            grants.metrics?.storeError()
            throw .storeUnavailable
        } catch {
            throw .unexpected(error)
        }
    }

    static func identity(
        _ verified: VerifiedOAuth1Request, policy: CompiledPolicy, grants: GrantServices
    ) async throws -> Identity {
        let appKey = verified.consumer.appKey
        guard let app = policy.app(key: appKey), let link = app.oauth1 else {
            throw OAuth1Problem(.consumerKeyUnknown, "the application link is gone")
        }
        guard app.enabled else {
            throw OAuth1Problem(.consumerKeyUnknown, "the application link \(appKey) is disabled")
        }
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
        case .threeLegged(let token):
            // Issued to this consumer, not revoked, not expired: from memory when the store
            // vouched for it recently (docs/links.md).
            let record = try await grants.liveOAuth1AccessToken(token, consumerKey: verified.consumer.consumerKey)
            (kind, accountId) = (.oauth1ThreeLegged, record.accountId)
        }
        do {
            return try policy.identity(for: kind, appKey: appKey, accountId: accountId)
        } catch {
            throw OAuth1Problem(.permissionDenied, error.message)
        }
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
