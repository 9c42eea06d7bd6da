import Foundation
import Grants
import JWT

/// API tokens over HTTP Basic (CONTRACT §3): `base64(email-or-name:api-token)`
/// acts as that user, with no scope test; the user's permissions apply.
/// `basicAuth: false` turns it off. Repeated failures for one login or one
/// client address are refused with 429 for a while (`LoginThrottle`).
struct BasicAuthentication: CredentialVerifier {
    let grants: GrantServices
    let throttle: LoginThrottle

    func handles(_ credential: PresentedCredential) -> Bool {
        if case .basic = credential { true } else { false }
    }

    func authenticate(_ credential: PresentedCredential, request: RequestLine, policy: PolicySnapshot)
        async throws(GatewayError) -> Authenticated
    {
        guard case .basic(let encoded) = credential else {
            preconditionFailure("BasicAuthentication was given a \(credential.scheme.rawValue) credential")
        }
        let compiled = policy.policy
        guard compiled.document.gateway.basicAuth else {
            throw .invalidToken("HTTP Basic is turned off on this site (basicAuth: false)", reason: "basic_disabled", scheme: .basic)
        }
        guard let data = Data(base64Encoded: String(encoded)), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else {
            throw .invalidToken("Basic credentials must be base64(email-or-name:api-token)", reason: "malformed_basic", scheme: .basic)
        }
        let login = String(text[..<colon])
        let token = String(text[text.index(after: colon)...])
        let keys = LoginThrottle.keys(username: login, address: request.clientAddress)
        if let wait = throttle.retryAfter(keys: keys) {
            var error = GatewayError(status: 429, error: "too_many_requests",
                                     message: "too many failed attempts; wait \(wait) seconds", reason: "basic_throttled")
            error.retryAfter = wait
            error.challenges = ["Basic realm=\"\(GatewayError.realm)\""]
            throw error
        }
        let record: APITokenRecord?
        do {
            record = token.isEmpty ? nil : try await grants.store.apiToken(token)
        } catch {
            grants.metrics?.storeError()
            throw GatewayError(status: 503, error: "temporarily_unavailable", message: "the site's store did not answer",
                               reason: "store_unavailable")
        }
        guard let user = compiled.user(login: login), let record, record.accountId == user.accountId
        else {
            throttle.failed(keys: keys)
            throw .invalidToken("the user name or API token is not right", reason: "bad_api_token", scheme: .basic)
        }
        throttle.succeeded(key: keys[0])
        do {
            return Authenticated(identity: try compiled.identity(for: .basic, appKey: nil, accountId: user.accountId),
                                 isContextToken: false)
        } catch {
            throw .invalidToken(error.message, reason: ReasonCode.snakeCase(error.code.rawValue), scheme: .basic)
        }
    }
}
