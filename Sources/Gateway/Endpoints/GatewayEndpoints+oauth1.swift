import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import NIOCore
import Policy

/// The OAuth 1.0a application-link provider (docs/protocols.md §6): request tokens,
/// the user's approval, access tokens and their renewal.
extension GatewayEndpoints {
    static let requestTokenLifetime: Int64 = 600
    /// The session (renewal with `oauth_session_handle`) outlives the access token by 30 days.
    static let oauth1SessionExtra: Int64 = 30 * 86_400

    /// `POST /plugins/servlet/oauth/request-token`: signed by the consumer, with `oauth_callback`.
    func requestToken(
        _ request: Request, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        let verified = try await verifiedSigned(request, snapshot: snapshot)
        context.access.appKey = verified.consumer.appKey
        guard case .twoLegged = verified.flow else {
            throw OAuth1Problem(.parameterRejected, "a request token is asked for without oauth_token")
        }
        guard let callback = verified.callback, !callback.isEmpty else {
            throw OAuth1Problem(.parameterAbsent, "missing oauth_callback (a URL, or oob)")
        }
        guard
            callback == "oob" || callback.lowercased().hasPrefix("https://")
                || callback.lowercased().hasPrefix("http://")
        else {
            throw OAuth1Problem(.parameterRejected, "oauth_callback must be an http(s) URL or oob")
        }
        let token = SecureRandom.identifier(bytes: 24)
        let secret = SecureRandom.identifier(bytes: 24)
        try await grants.store.createRequestToken(
            token, secret: secret, consumerKey: verified.consumer.consumerKey,
            appKey: verified.consumer.appKey, callback: callback,
            expiresAt: UnixTime.now() + Self.requestTokenLifetime)
        context.access.reason = "request_token_issued"
        context.access.allowed = true
        return Self.formReply(
            [("oauth_token", token), ("oauth_token_secret", secret), ("oauth_callback_confirmed", "true")],
            requestId: context.requestId)
    }

    /// `POST /plugins/servlet/oauth/access-token`: a request token and its verifier
    /// become an access token; or an access token and its session handle are renewed.
    func accessToken(
        _ request: Request, snapshot: PolicySnapshot, context: GatewayRequestContext
    ) async throws -> Response {
        let policy = snapshot.policy
        let verified = try await verifiedSigned(request, snapshot: snapshot)
        context.access.appKey = verified.consumer.appKey
        guard case .threeLegged(let token) = verified.flow else {
            throw OAuth1Problem(.parameterAbsent, "missing oauth_token")
        }
        guard let app = policy.app(key: verified.consumer.appKey), app.enabled else {
            throw OAuth1Problem(.consumerKeyUnknown, "the application link is disabled")
        }
        let lifetime = Int64(policy.document.gateway.lifetimes.oauth1AccessToken)
        let now = UnixTime.now()
        let grant: OAuth1AccessGrant
        if let handle = verified.sessionHandle {
            let result = try await grants.renewAccessToken(
                token, sessionHandle: handle,
                consumerKey: verified.consumer.consumerKey,
                makeGrant: { user, end in
                    OAuth1AccessGrant(
                        token: SecureRandom.identifier(bytes: 24), secret: SecureRandom.identifier(bytes: 24),
                        sessionHandle: handle, expiresAt: min(now + lifetime, end), sessionExpiresAt: end,
                        accountId: user)
                })
            grant = try result.get()
            context.access.reason = "access_token_renewed"
        } else {
            guard let verifier = verified.verifier, !verifier.isEmpty else {
                throw OAuth1Problem(.parameterAbsent, "missing oauth_verifier")
            }
            let issued = OAuth1AccessGrant(
                token: SecureRandom.identifier(bytes: 24), secret: SecureRandom.identifier(bytes: 24),
                sessionHandle: SecureRandom.identifier(bytes: 24), expiresAt: now + lifetime,
                sessionExpiresAt: now + lifetime + Self.oauth1SessionExtra, accountId: "")
            if let problem = try await grants.store.exchangeRequestToken(
                token, consumerKey: verified.consumer.consumerKey,
                verifier: verifier, grant: issued)
            {
                throw problem
            }
            grant = issued
            context.access.reason = "access_token_issued"
        }
        context.access.allowed = true
        return Self.formReply(
            [
                ("oauth_token", grant.token), ("oauth_token_secret", grant.secret),
                ("oauth_expires_in", String(grant.expiresAt - now)),
                ("oauth_session_handle", grant.sessionHandle),
                ("oauth_authorization_expires_in", String(grant.sessionExpiresAt - now)),
            ], requestId: context.requestId)
    }

    /// `GET /plugins/servlet/oauth/authorize?oauth_token=…` shows the approval page to the
    /// signed-in user; its form posts the decision back here.
    func approve(_ request: Request, policy: CompiledPolicy, context: GatewayRequestContext) async throws -> Response {
        struct Decision: Decodable {
            var oauth_token: String?
            var csrf: String?
            var decision: String?
        }
        let site = policy.document.gateway.site.name
        let form: Decision =
            request.method == .post
            ? try await Self.form(request)
            : Decision(oauth_token: request.uri.queryParameters.get("oauth_token"))
        guard let token = form.oauth_token, !token.isEmpty, let pending = try await grants.store.oauth1Token(token),
            pending.kind == .request, pending.accountId == nil, pending.expiresAt > UnixTime.now(),
            let app = policy.app(key: pending.appKey), app.enabled
        else {
            context.access.reason = "token_rejected"
            return pages.message(
                "This link has expired",
                "The application link's request is unknown, used or expired. Start again from the app.",
                site: site, status: .badRequest, requestId: context.requestId)
        }
        context.access.appKey = app.key
        guard let current = try await sessions.current(request, policy: policy) else {
            context.access.reason = "login_required"
            let returnTo = "/plugins/servlet/oauth/authorize?oauth_token=" + RedirectTarget.encoded(token)
            return seeOther("/login?return_to=" + RedirectTarget.encoded(returnTo), requestId: context.requestId)
        }
        context.access.accountId = current.user.accountId
        guard request.method == .post else {
            context.access.reason = "approval_shown"
            context.access.allowed = true
            return pages.page(
                .oauth1,
                [
                    "approval": [
                        "appName": app.name, "userName": current.user.displayName,
                        "csrf": current.session.csrf, "token": token,
                    ],
                    "title": "Authorize \(app.name)",
                ], site: site, requestId: context.requestId)
        }
        guard BrowserSessions.csrfMatches(form.csrf, current.session.csrf) else {
            context.access.reason = "csrf_failed"
            return pages.message(
                "This form has expired", "Start again from the app.", site: site, status: .forbidden,
                requestId: context.requestId)
        }
        let approved = form.decision == "approve"
        // Atlassian's provider answers a refusal with the verifier "denied"; the access-token step then says user_refused.
        let verifier = approved ? SecureRandom.identifier(bytes: 16) : "denied"
        guard
            try await grants.store.decideRequestToken(
                token, accountId: current.user.accountId, verifier: approved ? verifier : nil)
        else {
            context.access.reason = "token_rejected"
            return pages.message(
                "Already decided", "This request was approved or denied before.", site: site, status: .badRequest,
                requestId: context.requestId)
        }
        context.access.reason = approved ? "link_approved" : "link_denied"
        context.access.allowed = approved
        let callback = pending.callback ?? "oob"
        if callback == "oob" {
            return pages.page(
                .oauth1,
                [
                    "verifier": [
                        "heading": approved ? "Access approved" : "Access denied",
                        "appName": app.name, "verifier": verifier,
                    ],
                    "title": app.name,
                ], site: site, requestId: context.requestId)
        }
        let query = "oauth_token=\(OAuth1Request.encode(token))&oauth_verifier=\(OAuth1Request.encode(verifier))"
        return seeOther(callback + (callback.contains("?") ? "&" : "?") + query, requestId: context.requestId)
    }

    /// The signed request at a provider endpoint, its form body included.
    private func verifiedSigned(_ request: Request, snapshot: PolicySnapshot) async throws -> VerifiedOAuth1Request {
        let policy = snapshot.policy
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("oauth ") else {
            throw OAuth1Problem(.parameterAbsent, "sign the request with an Authorization: OAuth header (RSA-SHA1)")
        }
        var formBody: String?
        if request.headers.hasFormBody {
            do {
                formBody = String(buffer: try await request.body.collect(upTo: 64 * 1024))
            } catch {
                throw PageFormError()
            }
        }
        let path = request.head.path ?? "/"
        let rawPath = path[..<(path.firstIndex(of: "?") ?? path.endIndex)]
        let rawQuery = path.firstIndex(of: "?").map { path[path.index(after: $0)...] }
        let signed = try OAuth1Request(
            header: Substring(header).dropFirst(6), method: request.method.rawValue,
            baseURL: policy.document.gateway.baseUrl, rawPath: rawPath, rawQuery: rawQuery,
            formBody: formBody)
        return try await snapshot.grants.oauth1.verify(signed, policy: policy)
    }

    static func formReply(_ fields: [(String, String)], requestId: String) -> Response {
        let body = fields.map { "\($0.0)=\(OAuth1Request.encode($0.1))" }.joined(separator: "&")
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/x-www-form-urlencoded", .cacheControl: "no-store",
                .xRequestID: requestId,
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
