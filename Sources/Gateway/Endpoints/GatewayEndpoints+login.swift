import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import Policy

/// The local login form (users with a `passwordHash`) and sign-out.
extension GatewayEndpoints {
    struct LoginForm: Decodable {
        var username: String?
        var password: String?
        var csrf: String?
        var return_to: String?
    }

    /// Where a finished login may send the browser: a path on this site only, else
    /// the connected apps page. `target` is the `return_to` value once decoded from
    /// the query or form. It must start with one `/` followed by a character that is
    /// neither `/` nor `\`, and have no control character or whitespace anywhere:
    /// browsers drop a tab or newline from a URL, so `/<TAB>/evil.example/` would
    /// take them to `//evil.example/`. Escapes left in it (`%09`) stay escapes in
    /// `Location`, which browsers do not decode into the authority.
    static func safeReturn(_ target: String?) -> String {
        guard let target, isSafeReturn(target) else { return "/account/apps" }
        return target
    }

    private static func isSafeReturn(_ path: String) -> Bool {
        let scalars = Array(path.unicodeScalars)
        guard scalars.count >= 2, scalars[0] == "/", scalars[1] != "/", scalars[1] != "\\" else { return false }
        return !scalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
    }

    func loginPage(_ request: Request, policy: CompiledPolicy, context: GatewayRequestContext) async throws -> Response
    {
        let returnTo = Self.safeReturn(request.uri.queryParameters.get("return_to"))
        if try await sessions.current(request, policy: policy) != nil {
            context.access.reason = "already_signed_in"
            return seeOther(returnTo, requestId: context.requestId)
        }
        context.access.reason = "login_form"
        context.access.allowed = true
        return loginForm(
            returnTo: returnTo, username: "", error: nil, policy: policy, status: .ok, requestId: context.requestId)
    }

    func login(
        _ request: Request, address: String?, policy: CompiledPolicy, context: GatewayRequestContext
    ) async throws -> Response {
        let form: LoginForm = try await Self.form(request)
        let returnTo = Self.safeReturn(form.return_to)
        let username = (form.username ?? "").trimmingCharacters(in: .whitespaces)
        guard policy.document.gateway.login.local else {
            context.access.reason = "local_login_disabled"
            return pages.message(
                "Sign-in is not available", "This site does not use its own sign-in form.",
                site: policy.document.gateway.site.name, status: .notFound, requestId: context.requestId)
        }
        guard let cookie = request.cookies[BrowserSessions.loginCSRFCookie]?.value,
            BrowserSessions.csrfMatches(form.csrf, cookie)
        else {
            context.access.reason = "csrf_failed"
            return loginForm(
                returnTo: returnTo, username: username, error: "The form expired. Please sign in again.",
                policy: policy, status: .forbidden, requestId: context.requestId)
        }
        let keys = LoginThrottle.keys(account: policy.throttleAccount(login: username), address: address)
        if let wait = throttle.retryAfter(keys: keys) {
            context.access.reason = "login_throttled"
            var response = loginForm(
                returnTo: returnTo, username: username,
                error: "Too many failed attempts. Wait \(wait) seconds and try again.",
                policy: policy, status: .tooManyRequests, requestId: context.requestId)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        guard let user = Self.verifiedUser(username, password: form.password ?? "", policy: policy) else {
            throttle.failed(keys: keys)
            context.access.reason = "login_failed"
            return loginForm(
                returnTo: returnTo, username: username, error: "The user name or password is not right.",
                policy: policy, status: .unauthorized, requestId: context.requestId)
        }
        throttle.succeeded(keys: keys)
        let session = try await sessions.start(accountId: user.accountId, secure: secureCookies(policy))
        context.access.accountId = user.accountId
        context.access.reason = "signed_in"
        context.access.allowed = true
        let expired = BrowserSessions.cookie(
            BrowserSessions.loginCSRFCookie, "", maxAge: 0, secure: secureCookies(policy))
        return seeOther(returnTo, cookies: [session, expired], requestId: context.requestId)
    }

    func logout(_ request: Request, policy: CompiledPolicy, context: GatewayRequestContext) async throws -> Response {
        struct LogoutForm: Decodable { var csrf: String? }
        let form: LogoutForm = try await Self.form(request)
        if let current = try await sessions.current(request, policy: policy), !current.cookie.isEmpty {
            // Without the session's CSRF token, a cross-site form could sign the user out: refuse, keep the session.
            guard BrowserSessions.csrfMatches(form.csrf, current.session.csrf) else {
                context.access.reason = "csrf_failed"
                return pages.message(
                    "This request is not valid", "The sign-out form expired. Sign out again from the account page.",
                    site: policy.document.gateway.site.name, status: .forbidden, requestId: context.requestId)
            }
            try await grants.store.deleteSession(cookie: current.cookie)
            context.access.accountId = current.user.accountId
        }
        context.access.reason = "signed_out"
        context.access.allowed = true
        let expired = BrowserSessions.cookie(BrowserSessions.cookieName, "", maxAge: 0, secure: secureCookies(policy))
        return seeOther("/login", cookies: [expired], requestId: context.requestId)
    }

    /// The active user with a password hash whose name or email is `username`
    /// and whose password matches. Unknown names cost a hash computation too,
    /// so timing does not tell which names exist.
    static func verifiedUser(_ username: String, password: String, policy: CompiledPolicy) -> UserRecord? {
        guard let user = policy.user(login: username), let text = user.passwordHash,
            let hash = try? PasswordHash(parsing: text)
        else {
            _ = dummyHash.matches(password)
            return nil
        }
        guard hash.matches(password), user.active else { return nil }
        return user
    }

    private static let dummyHash = try! PasswordHash.make(SecureRandom.identifier())

    private func loginForm(
        returnTo: String, username: String, error: String?, policy: CompiledPolicy,
        status: HTTPResponse.Status, requestId: String
    ) -> Response {
        let csrf = SecureRandom.identifier(bytes: 24)
        var values: [String: Any] = ["title": "Sign in", "csrf": csrf, "returnTo": returnTo, "username": username]
        if let error { values["error"] = error }
        var response = pages.page(
            .login, values, site: policy.document.gateway.site.name, status: status, requestId: requestId)
        response.setCookie(
            BrowserSessions.cookie(BrowserSessions.loginCSRFCookie, csrf, maxAge: 3600, secure: secureCookies(policy)))
        return response
    }
}
