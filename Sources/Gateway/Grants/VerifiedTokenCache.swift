import Grants
import Synchronization

/// Access tokens whose signature has been checked, by their exact text, so a
/// reused token costs a dictionary lookup instead of an ECDSA verification.
/// Only the signature is cached: expiry, revocation, the app and the user are
/// checked on every request. Bounded: when full it starts over (a token is
/// verified again at worst).
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let claims: AccessToken
        /// The issuer the token was verified for: a reload that changes `baseUrl` invalidates it.
        let issuer: String
    }

    let capacity: Int
    private let entries: Mutex<[String: Entry]>

    init(capacity: Int = 16_384) {
        self.capacity = capacity
        entries = Mutex([:])
    }

    func lookup(_ token: Substring, issuer: String) -> AccessToken? {
        let key = String(token)
        return entries.withLock { table in
            guard let entry = table[key], entry.issuer == issuer else { return nil }
            return entry.claims
        }
    }

    func insert(_ token: Substring, claims: AccessToken, issuer: String) {
        let key = String(token)
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = Entry(claims: claims, issuer: issuer)
        }
    }
}
