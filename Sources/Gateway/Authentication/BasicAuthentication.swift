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

    func authenticate(
        _ encoded: Substring, request: RequestLine, snapshot: PolicySnapshot
    ) async throws(GatewayError) -> Authenticated {
        let compiled = snapshot.policy
        guard compiled.document.gateway.basicAuth else {
            throw GatewayError(
                .basicDisabled, "HTTP Basic is turned off on this site (basicAuth: false)", scheme: .basic)
        }
        guard let data = Data(base64Encoded: String(encoded)), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else {
            throw GatewayError(
                .malformedBasic, "Basic credentials must be base64(email-or-name:api-token)", scheme: .basic)
        }
        let login = String(text[..<colon])
        let token = String(text[text.index(after: colon)...])
        let keys = LoginThrottle.keys(account: compiled.throttleAccount(login: login), address: request.clientAddress)
        if let wait = throttle.retryAfter(keys: keys) {
            var error = GatewayError(.basicThrottled, "too many failed attempts; wait \(wait) seconds", scheme: .basic)
            error.retryAfter = wait
            throw error
        }
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
}
