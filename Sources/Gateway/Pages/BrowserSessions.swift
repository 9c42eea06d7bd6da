import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
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
            return Current(cookie: "", session: SessionRecord(accountId: accountId, csrf: Self.headerCSRF(accountId),
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
        try await store.createSession(cookie: value, accountId: accountId, csrf: SecureRandom.identifier(bytes: 24),
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

/// Slows down password guessing (issue 6): after `freeAttempts` failures in
/// `window` seconds for one account or one client address, further attempts are
/// refused for `firstDelay` seconds, doubling with each further failure, up to `maxDelay`.
final class LoginThrottle: Sendable {
    struct Counter: Sendable {
        var failures: Int
        var firstFailure: Int64
        var blockedUntil: Int64
    }

    let freeAttempts = 5
    let window: Int64 = 15 * 60
    let firstDelay: Int64 = 5
    let maxDelay: Int64 = 300
    private let counters = Mutex<[String: Counter]>([:])

    /// Seconds to wait before another attempt, or nil when one may be made now.
    func retryAfter(keys: [String], now: Int64 = UnixTime.now()) -> Int64? {
        counters.withLock { table in
            keys.compactMap { table[$0] }.map { $0.blockedUntil - now }.filter { $0 > 0 }.max()
        }
    }

    func failed(keys: [String], now: Int64 = UnixTime.now()) {
        counters.withLock { table in
            if table.count > 100_000 { table = table.filter { now - $0.value.firstFailure < window } }
            for key in keys {
                var counter = table[key] ?? Counter(failures: 0, firstFailure: now, blockedUntil: 0)
                if now - counter.firstFailure > window { counter = Counter(failures: 0, firstFailure: now, blockedUntil: 0) }
                counter.failures += 1
                if counter.failures >= freeAttempts {
                    counter.blockedUntil = now + min(maxDelay, firstDelay << min(20, counter.failures - freeAttempts))
                }
                table[key] = counter
            }
        }
    }

    func succeeded(key: String) {
        _ = counters.withLock { $0.removeValue(forKey: key) }
    }

    static func keys(username: String, address: String?) -> [String] {
        ["user:" + username.lowercased()] + (address.map { ["address:" + $0] } ?? [])
    }
}
