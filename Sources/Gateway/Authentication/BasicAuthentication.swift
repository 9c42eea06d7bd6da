import Foundation
import Grants
import JWT
import Policy

/// API tokens over HTTP Basic (docs/gateway.md §3, docs/links.md): `base64(email-or-name:api-token)`
/// acts as that user, with no scope test; the user's permissions apply.
/// `basicAuth: false` turns it off. Repeated failures for one login or one
/// client address are refused with 429 for a while (`LoginThrottle`). A token the
/// store vouched for is answered from memory (`GrantServices.liveAPIToken`); the
/// login is checked against its owner on every request.
struct BasicAuthentication: Sendable {
    let grants: GrantServices
    let throttle: LoginThrottle

    /// Verifies the credential from memory alone, for the fast path: the token's
    /// record when the store vouched for it recently and its login names its owner.
    /// Nil when memory cannot answer (not cached, or not right): `authenticate`
    /// then asks the store and gives every refusal, so refusals have one place.
    /// - Throws: `GatewayError` when Basic is off, the credential is malformed or
    ///   the login is throttled, as `authenticate` would.
    func authenticateFromMemory(
        _ encoded: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) throws(GatewayError) -> Authenticated? {
        let presented = try Self.presented(encoded, snapshot: snapshot)
        let keys = try checkThrottle(presented.login, request: request, snapshot: snapshot)
        let compiled = snapshot.policy
        guard !presented.token.isEmpty,
            let record = grants.apiTokens.lookup(presented.token, revocations: grants.revocations),
            let user = compiled.user(login: presented.login), record.accountId == user.accountId,
            let identity = try? compiled.identity(for: .basic, appKey: nil, accountId: user.accountId)
        else { return nil }
        throttle.succeeded(keys: keys)
        return Authenticated(identity: identity)
    }

    func authenticate(
        _ encoded: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) async throws(GatewayError) -> Authenticated {
        let compiled = snapshot.policy
        let (login, token) = try Self.presented(encoded, snapshot: snapshot)
        let keys = try checkThrottle(login, request: request, snapshot: snapshot)
        let record: APITokenRecord?
        do {
            record = token.isEmpty ? nil : try await grants.liveAPIToken(token)
        } catch {
            grants.metrics?.storeError()
            throw .storeUnavailable
        }
        guard let user = compiled.user(login: login), let record, record.accountId == user.accountId
        else {
            throttle.failed(keys: keys)
            throw GatewayError(.badAPIToken, "the user name or API token is not right", scheme: .basic)
        }
        throttle.succeeded(keys: keys)
        do {
            return Authenticated(identity: try compiled.identity(for: .basic, appKey: nil, accountId: user.accountId))
        } catch {
            throw GatewayError(error, scheme: .basic)
        }
    }

    /// The login and API token of `base64(login:token)`, when Basic is on.
    private static func presented(
        _ encoded: Substring, snapshot: PolicySnapshot
    ) throws(GatewayError) -> (login: String, token: String) {
        guard snapshot.policy.document.gateway.basicAuth else {
            throw GatewayError(
                .basicDisabled, "HTTP Basic is turned off on this site (basicAuth: false)", scheme: .basic)
        }
        guard let data = Data(base64Encoded: String(encoded)), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else {
            throw GatewayError(
                .malformedBasic, "Basic credentials must be base64(email-or-name:api-token)", scheme: .basic)
        }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The throttle's keys for `login` from this client; 429 while they are throttled.
    private func checkThrottle(
        _ login: String, request: RequestLine, snapshot: PolicySnapshot
    ) throws(GatewayError) -> [LoginThrottle.Key] {
        let keys = LoginThrottle.keys(
            account: snapshot.policy.throttleAccount(login: login), address: request.clientAddress)
        if let wait = throttle.retryAfter(keys: keys) {
            var error = GatewayError(.basicThrottled, "too many failed attempts; wait \(wait) seconds", scheme: .basic)
            error.retryAfter = wait
            throw error
        }
        return keys
    }
}
