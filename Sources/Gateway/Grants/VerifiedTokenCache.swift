import Grants
import Policy
import Synchronization

/// Access tokens whose signature has been checked, by their exact text, so a
/// reused token costs a dictionary lookup instead of an ECDSA verification.
/// Only the signature is cached: expiry and revocation are checked on every
/// request. The identity a token acts as (its app enabled, its user active,
/// its scopes implied) is kept beside it for the policy generation it was
/// formed under, so a reload forms it again (docs/gateway.md §3). Bounded:
/// when full it starts over (a token is verified again at worst).
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let claims: AccessToken
        /// The issuer the token was verified for: a reload that changes `baseUrl` invalidates it.
        let issuer: String
        /// The identity formed for the token, and the policy generation it was formed under.
        var formed: FormedIdentity?
    }

    /// An identity and the `PolicySnapshot.generation` whose policy formed it.
    struct FormedIdentity: Sendable {
        let generation: Int
        let identity: Identity
    }

    let capacity: Int
    private let entries: Mutex<[String: Entry]>

    init(capacity: Int = 16_384) {
        self.capacity = capacity
        entries = Mutex([:])
    }

    func lookup(_ token: Substring, issuer: String) -> Entry? {
        let key = String(token)
        return entries.withLock { table in
            guard let entry = table[key], entry.issuer == issuer else { return nil }
            return entry
        }
    }

    /// Keeps a token just verified; its entry, with no identity formed yet.
    @discardableResult
    func insert(_ token: Substring, claims: AccessToken, issuer: String) -> Entry {
        let key = String(token)
        let entry = Entry(claims: claims, issuer: issuer)
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = entry
        }
        return entry
    }

    /// Keeps `identity`, formed under policy `generation`, beside a token still in the cache.
    func remember(_ identity: Identity, generation: Int, for token: Substring) {
        let key = String(token)
        entries.withLock { table in
            table[key]?.formed = FormedIdentity(generation: generation, identity: identity)
        }
    }
}
