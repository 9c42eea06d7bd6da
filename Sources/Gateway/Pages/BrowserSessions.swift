import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import Policy
import Synchronization

/// Signed-in browser sessions for the login, consent and account pages: a
/// random cookie (HttpOnly, SameSite=Lax, Secure when `baseUrl` is https) whose
/// SHA-256 names the session in the store, with the CSRF token its forms carry.
struct BrowserSessions: Sendable {
    static let cookieName = "lg_session"
    /// The login form's double-submit CSRF cookie (there is no session yet).
    static let loginCSRFCookie = "lg_csrf"
    static let lifetime: Int64 = 12 * 3600

    let store: Store

    struct Current: Sendable {
        let cookie: String
        let session: SessionRecord
        let user: UserRecord
    }

    /// The signed-in user: by the trusted SSO header when `login.trustedHeader` is
    /// set and present, else by the session cookie. Nil when nobody is signed in
    /// or the user is no longer active.
    func current(_ request: Request, policy: CompiledPolicy) async throws(StoreError) -> Current? {
        if let header = policy.document.gateway.login.trustedHeader, let name = HTTPField.Name(header),
            let accountId = request.headers[name], !accountId.isEmpty
        {
            guard let user = policy.user(accountId: accountId), user.active else { return nil }
            // A header-authenticated request has no stored session; its CSRF token is derived per user and day.
            return Current(
                cookie: "",
                session: SessionRecord(
                    accountId: accountId, csrf: Self.headerCSRF(accountId),
                    expiresAt: UnixTime.now() + 3600), user: user)
        }
        guard let cookie = request.cookies[Self.cookieName]?.value, !cookie.isEmpty,
            let session = try await store.session(cookie: cookie),
            let user = policy.user(accountId: session.accountId), user.active
        else { return nil }
        return Current(cookie: cookie, session: session, user: user)
    }

    /// Starts a session for the user; the cookie to set.
    func start(accountId: String, secure: Bool) async throws(StoreError) -> Cookie {
        let value = SecureRandom.identifier(bytes: 32)
        try await store.createSession(
            cookie: value, accountId: accountId, csrf: SecureRandom.identifier(bytes: 24),
            lifetime: Self.lifetime)
        return Self.cookie(Self.cookieName, value, maxAge: Int(Self.lifetime), secure: secure)
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Whether a submitted CSRF token is the expected one, in constant time.
    static func csrfMatches(_ submitted: String?, _ expected: String) -> Bool {
        guard let submitted, !expected.isEmpty else { return false }
        return ConstantTime.equals(submitted, expected)
    }

    /// A CSRF token for header-authenticated users, who have no stored session:
    /// a hash of a per-process secret, the user and the day.
    static func headerCSRF(_ accountId: String) -> String {
        let day = UnixTime.now() / 86_400
        return Hex.lowercase(Digest.sha256.hash(Array("\(processSecret):\(accountId):\(day)".utf8)))
    }

    private static let processSecret = SecureRandom.identifier(bytes: 32)
}
