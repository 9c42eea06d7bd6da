import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT

/// `GET /authorize` and the consent form's `POST /authorize` (RFC 6749 §4.1, PROTOCOLS §4).
extension GatewayEndpoints {
    /// Validates the request (the link's query, or the consent form's fields), then
    /// shows the consent page or issues a code (GET), or records the decision (POST).
    func authorization(_ parameters: AuthorizationParameters, submitted: Bool, request: Request, policy: CompiledPolicy,
                       record: inout AccessRecord) async throws -> Response {
        let authorization: AuthorizationRequest
        switch AuthorizationRequest.validate(parameters, policy: policy) {
        case .failure(let failure): return refuse(failure, policy: policy, record: &record)
        case .success(let valid): authorization = valid
        }
        record.appKey = authorization.app.key
        return submitted
            ? try await decide(authorization, parameters, request: request, policy: policy, record: &record)
            : try await authorize(authorization, parameters, request: request, policy: policy, record: &record)
    }

    private func authorize(_ authorization: AuthorizationRequest, _ parameters: AuthorizationParameters, request: Request,
                           policy: CompiledPolicy, record: inout AccessRecord) async throws -> Response {
        guard let current = try await sessions.current(request, policy: policy) else {
            if authorization.forbidsInteraction {
                return refuse(.redirect(RedirectTarget(uri: authorization.redirectURI, error: "login_required",
                                                       description: "the user is not signed in", state: authorization.state)),
                              policy: policy, record: &record)
            }
            guard policy.document.gateway.login.local else {
                return pages.message("Sign-in is not available", "This site has no local sign-in and no single sign-on header arrived.",
                                     site: policy.document.gateway.site.name, status: .unauthorized, requestId: record.requestId)
            }
            record.reason = "login_required"
            let returnTo = request.uri.path + "?" + (request.uri.query ?? "")
            return seeOther("/login?return_to=" + RedirectTarget.encoded(returnTo), requestId: record.requestId)
        }
        record.accountId = current.user.accountId
        let remembered = try await grants.store.consent(accountId: current.user.accountId, appKey: authorization.app.key)
        if !authorization.asksForConsent, let remembered, Set(authorization.scopes).isSubset(of: remembered) {
            return try await issueCode(authorization, user: current.user, policy: policy, record: &record)
        }
        if authorization.forbidsInteraction {
            return refuse(.redirect(RedirectTarget(uri: authorization.redirectURI, error: "consent_required",
                                                   description: "the user has not consented", state: authorization.state)),
                          policy: policy, record: &record)
        }
        record.reason = "consent_shown"
        record.allowed = true
        return pages.page(.consent, [
            "title": "Authorize \(authorization.app.name)",
            "appName": authorization.app.name,
            "userName": current.user.displayName,
            "csrf": current.session.csrf,
            "scopes": authorization.scopes.map { ["name": $0, "description": ScopeDescriptions.describe($0)] },
            "fields": parameters.formFields.map { ["name": $0.0, "value": $0.1] },
        ], site: policy.document.gateway.site.name, requestId: record.requestId)
    }

    /// The consent form: Approve remembers the consent and issues a code; Deny
    /// sends `access_denied`. Both need the signed-in session and its CSRF token.
    private func decide(_ authorization: AuthorizationRequest, _ parameters: AuthorizationParameters, request: Request,
                        policy: CompiledPolicy, record: inout AccessRecord) async throws -> Response {
        guard let current = try await sessions.current(request, policy: policy),
              BrowserSessions.csrfMatches(parameters.csrf, current.session.csrf)
        else {
            record.reason = "csrf_failed"
            return pages.message("This form has expired", "Start again from the app: the form did not come from your signed-in session.",
                                 site: policy.document.gateway.site.name, status: .forbidden, requestId: record.requestId)
        }
        record.accountId = current.user.accountId
        switch parameters.decision {
        case "approve":
            let previous = try await grants.store.consent(accountId: current.user.accountId, appKey: authorization.app.key) ?? []
            let scopes = previous + authorization.scopes.filter { !previous.contains($0) }
            try await grants.store.saveConsent(accountId: current.user.accountId, appKey: authorization.app.key, scopes: scopes)
            return try await issueCode(authorization, user: current.user, policy: policy, record: &record)
        case "deny":
            record.reason = "access_denied"
            return seeOther(RedirectTarget(uri: authorization.redirectURI, error: OAuthError.Code.accessDenied.rawValue,
                                           description: "the user denied the request", state: authorization.state).location,
                            requestId: record.requestId)
        default:
            return refuse(.page(heading: "This form is not valid", message: "Choose Approve or Deny."), policy: policy, record: &record)
        }
    }

    /// A single-use code bound to the client, redirect URI, user, scopes and PKCE challenge.
    private func issueCode(_ authorization: AuthorizationRequest, user: UserRecord, policy: CompiledPolicy,
                           record: inout AccessRecord) async throws -> Response {
        let code = SecureRandom.identifier(bytes: 32)
        try await grants.store.insertCode(code, AuthorizationCodeRecord(
            familyID: SecureRandom.identifier(bytes: 16), appKey: authorization.app.key, clientID: authorization.client.clientId,
            accountId: user.accountId, redirectURI: authorization.redirectURI, scopes: authorization.scopes,
            codeChallenge: authorization.codeChallenge,
            expiresAt: UnixTime.now() + Int64(policy.document.gateway.lifetimes.authorizationCode)))
        record.reason = "code_issued"
        record.allowed = true
        return seeOther(RedirectTarget(uri: authorization.redirectURI, code: code, state: authorization.state).location,
                        requestId: record.requestId)
    }

    private func refuse(_ failure: AuthorizationRequest.Failure, policy: CompiledPolicy, record: inout AccessRecord) -> Response {
        switch failure {
        case .page(let heading, let message):
            record.reason = "bad_authorization_request"
            return pages.message(heading, message, detail: "Nothing was sent to the app.", site: policy.document.gateway.site.name,
                                 status: .badRequest, requestId: record.requestId)
        case .redirect(let target):
            record.reason = target.error ?? "error"
            return seeOther(target.location, requestId: record.requestId)
        }
    }
}
