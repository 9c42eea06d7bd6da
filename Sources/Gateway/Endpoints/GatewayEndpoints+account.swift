import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import Policy

/// `/account/apps` and `/oauth/token/accessible-resources`.
extension GatewayEndpoints {
    func connectedApps(
        _ request: Request, policy: CompiledPolicy, notice: String?, context: GatewayRequestContext
    ) async throws -> Response {
        guard let current = try await sessions.current(request, policy: policy) else {
            context.access.reason = "login_required"
            return seeOther("/login?return_to=%2Faccount%2Fapps", requestId: context.requestId)
        }
        context.access.accountId = current.user.accountId
        context.access.reason = "account_apps"
        context.access.allowed = true
        let consents = try await grants.store.consents(accountId: current.user.accountId)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        var apps: [[String: Any]] = consents.map { consent in
            [
                "key": consent.appKey, "name": policy.app(key: consent.appKey)?.name ?? consent.appKey,
                "kind": "OAuth 2.0",
                "since": formatter.string(from: Date(timeIntervalSince1970: Double(consent.grantedAt))),
                "scopes": consent.scopes,
                "csrf": current.session.csrf,
            ]
        }
        // Application links: one entry per app, since its first live token; they act with all of the user's permissions.
        let links = try await grants.store.oauth1Grants(accountId: current.user.accountId)
        for appKey in Set(links.map(\.appKey)).sorted() {
            let first = links.filter { $0.appKey == appKey }.map(\.createdAt).min() ?? 0
            apps.append([
                "key": appKey, "name": policy.app(key: appKey)?.name ?? appKey, "kind": "application link (OAuth 1.0a)",
                "since": formatter.string(from: Date(timeIntervalSince1970: Double(first))),
                "scopes": ["everything you may do"], "csrf": current.session.csrf,
            ])
        }
        var values: [String: Any] = [
            "title": "Connected apps", "userName": current.user.displayName, "apps": apps,
            "csrf": current.session.csrf,
        ]
        if let notice { values["notice"] = notice }
        return pages.page(.apps, values, site: policy.document.gateway.site.name, requestId: context.requestId)
    }

    /// The Revoke button: the consent, every refresh token family and every 3LO token of the app for
    /// this user, and its application-link (OAuth 1.0a) access tokens.
    func revokeApp(_ request: Request, policy: CompiledPolicy, context: GatewayRequestContext) async throws -> Response
    {
        struct RevokeForm: Decodable {
            var csrf: String?
            var app: String?
        }
        let form: RevokeForm = try await Self.form(request)
        guard let current = try await sessions.current(request, policy: policy),
            BrowserSessions.csrfMatches(form.csrf, current.session.csrf), let app = form.app
        else {
            context.access.reason = "csrf_failed"
            return pages.message(
                "This form has expired", "Open your connected apps again and retry.",
                site: policy.document.gateway.site.name, status: .forbidden, requestId: context.requestId)
        }
        let revoked = try await grants.store.revokeGrant(accountId: current.user.accountId, appKey: app)
        grants.revocations.insert(revoked)
        try await grants.revokeOAuth1(accountId: current.user.accountId, appKey: app)
        context.access.appKey = app
        context.access.accountId = current.user.accountId
        context.access.reason = "grant_revoked"
        context.access.allowed = true
        return seeOther("/account/apps", requestId: context.requestId)
    }

    /// `GET /oauth/token/accessible-resources` (docs/protocols.md §4): the site the token reaches.
    func accessibleResources(
        _ request: Request, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        let policy = snapshot.policy
        guard let header = request.headers[.authorization],
            case .bearer(let token) = try PresentedCredential.parse(header: Substring(header))
        else { throw GatewayError(.unauthenticated, "send the access token as Authorization: Bearer") }
        let (_, identity) = try snapshot.bearerIdentity(token)
        context.access.appKey = identity.appKey
        context.access.accountId = identity.user.accountId
        context.access.credential = identity.credential.rawValue
        context.access.reason = "allowed"
        let settings = policy.document.gateway
        let siteID: String
        if let configured = settings.site.id { siteID = configured } else { siteID = try await grants.store.siteID() }
        let resource = JSONValue.object(
            JSONObject([
                ("id", .string(siteID)), ("url", .string(settings.baseUrl)), ("name", .string(settings.site.name)),
                ("scopes", .array(identity.scopes.sorted.map { .string($0.name) })),
                ("avatarUrl", .string(settings.baseUrl + "/favicon.ico")),
            ]))
        return OAuthResponses.json(.array([resource]))
    }
}
