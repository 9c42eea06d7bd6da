import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import Policy

/// `GET /authorize` and the consent form's `POST /authorize` (RFC 6749 §4.1, docs/protocols.md §4).
extension GatewayEndpoints {
    /// Validates the request (the link's query, or the consent form's fields), then
    /// shows the consent page or issues a code (GET), or records the decision (POST).
    func authorization(
        _ parameters: AuthorizationParameters, submitted: Bool, request: Request, policy: CompiledPolicy,
        context: GatewayRequestContext
    ) async throws -> Response {
        let authorization: AuthorizationRequest
        switch AuthorizationRequest.validate(parameters, policy: policy) {
        case .failure(let failure): return refuse(failure, policy: policy, context: context)
        case .success(let valid): authorization = valid
        }
        context.access.appKey = authorization.app.key
        return submitted
            ? try await decide(authorization, parameters, request: request, policy: policy, context: context)
            : try await authorize(authorization, parameters, request: request, policy: policy, context: context)
    }

    private func authorize(
        _ authorization: AuthorizationRequest, _ parameters: AuthorizationParameters, request: Request,
        policy: CompiledPolicy, context: GatewayRequestContext
    ) async throws -> Response {
        guard let current = try await sessions.current(request, policy: policy) else {
            if authorization.forbidsInteraction {
                return refuse(
                    .redirect(
                        RedirectTarget(
                            uri: authorization.redirectURI, error: "login_required",
                            description: "the user is not signed in", state: authorization.state)),
                    policy: policy, context: context)
            }
            guard policy.document.gateway.login.local else {
                return pages.message(
                    "Sign-in is not available", "This site has no local sign-in and no single sign-on header arrived.",
                    site: policy.document.gateway.site.name, status: .unauthorized, requestId: context.requestId)
            }
            context.access.reason = "login_required"
            let returnTo = request.uri.path + "?" + (request.uri.query ?? "")
            return seeOther("/login?return_to=" + RedirectTarget.encoded(returnTo), requestId: context.requestId)
        }
        context.access.accountId = current.user.accountId
        let remembered = try await grants.store.consent(
            accountId: current.user.accountId, appKey: authorization.app.key)
        if !authorization.asksForConsent, let remembered, Set(authorization.scopes).isSubset(of: remembered) {
            return try await issueCode(authorization, user: current.user, policy: policy, context: context)
        }
        if authorization.forbidsInteraction {
            return refuse(
                .redirect(
                    RedirectTarget(
                        uri: authorization.redirectURI, error: "consent_required",
                        description: "the user has not consented", state: authorization.state)),
                policy: policy, context: context)
        }
        context.access.reason = "consent_shown"
        context.access.allowed = true
        return pages.page(
            .consent,
            [
                "title": "Authorize \(authorization.app.name)",
                "appName": authorization.app.name,
                "userName": current.user.displayName,
                "csrf": current.session.csrf,
                "scopes": authorization.scopes.map { ["name": $0, "description": ScopeDescriptions.describe($0)] },
                "fields": parameters.formFields.map { ["name": $0.0, "value": $0.1] },
            ], site: policy.document.gateway.site.name, requestId: context.requestId)
    }

    /// The consent form: Approve remembers the consent and issues a code; Deny
    /// sends `access_denied`. Both need the signed-in session and its CSRF token.
    private func decide(
        _ authorization: AuthorizationRequest, _ parameters: AuthorizationParameters, request: Request,
        policy: CompiledPolicy, context: GatewayRequestContext
    ) async throws -> Response {
        guard let current = try await sessions.current(request, policy: policy),
            BrowserSessions.csrfMatches(parameters.csrf, current.session.csrf)
        else {
            context.access.reason = "csrf_failed"
            return pages.message(
                "This form has expired", "Start again from the app: the form did not come from your signed-in session.",
                site: policy.document.gateway.site.name, status: .forbidden, requestId: context.requestId)
        }
        context.access.accountId = current.user.accountId
        switch parameters.decision {
        case "approve":
            let previous =
                try await grants.store.consent(accountId: current.user.accountId, appKey: authorization.app.key) ?? []
            let scopes = previous + authorization.scopes.filter { !previous.contains($0) }
            try await grants.store.saveConsent(
                accountId: current.user.accountId, appKey: authorization.app.key, scopes: scopes)
            return try await issueCode(authorization, user: current.user, policy: policy, context: context)
        case "deny":
            context.access.reason = "access_denied"
            return seeOther(
                RedirectTarget(
                    uri: authorization.redirectURI, error: OAuthError.Code.accessDenied.rawValue,
                    description: "the user denied the request", state: authorization.state
                ).location,
                requestId: context.requestId)
        default:
            return refuse(
                .page(heading: "This form is not valid", message: "Choose Approve or Deny."), policy: policy,
                context: context)
        }
    }

    /// A single-use code bound to the client, redirect URI, user, scopes and PKCE challenge.
    private func issueCode(
        _ authorization: AuthorizationRequest, user: UserRecord, policy: CompiledPolicy,
        context: GatewayRequestContext
    ) async throws -> Response {
        let code = SecureRandom.identifier(bytes: 32)
        try await grants.store.insertCode(
            code,
            AuthorizationCodeRecord(
                familyID: TimeOrderedID.make(), appKey: authorization.app.key,
                clientID: authorization.client.clientId,
                accountId: user.accountId, redirectURI: authorization.redirectURI, scopes: authorization.scopes,
                codeChallenge: authorization.codeChallenge,
                expiresAt: UnixTime.now() + Int64(policy.document.gateway.lifetimes.authorizationCode)))
        context.access.reason = "code_issued"
        context.access.allowed = true
        return seeOther(
            RedirectTarget(uri: authorization.redirectURI, code: code, state: authorization.state).location,
            requestId: context.requestId)
    }

    private func refuse(
        _ failure: AuthorizationRequest.Failure, policy: CompiledPolicy, context: GatewayRequestContext
    ) -> Response {
        switch failure {
        case .page(let heading, let message):
            context.access.reason = "bad_authorization_request"
            return pages.message(
                heading, message, detail: "Nothing was sent to the app.", site: policy.document.gateway.site.name,
                status: .badRequest, requestId: context.requestId)
        case .redirect(let target):
            context.access.reason = target.error ?? "error"
            return seeOther(target.location, requestId: context.requestId)
        }
    }
}
