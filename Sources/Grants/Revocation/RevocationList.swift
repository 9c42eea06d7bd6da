import JWT
import Synchronization

/// The revoked access tokens this gateway knows of, in memory, so the proxy
/// checks revocation without touching the store. Filled at start from the
/// store, at once by this gateway's own revocations, and by polling the store
/// for other gateways' (`RevocationSync`).
///
/// Besides access tokens (by `jti`) it names revoked 3LO grants (by the tag their
/// tokens carry), API tokens and OAuth 1.0a access tokens (`RevokedCredential`), and
/// it knows when it last caught up with
/// the store, so a cache of verified credentials can stop trusting itself when
/// the poll falls behind.
public final class RevocationList: Sendable {
    /// Revoked names and when the last token they name expires: `jti`s and credentials in
    /// `names`, grant tags (without their `grant:` prefix) in `grants`, so checking a token
    /// builds no string.
    private struct Entries {
        var names: [String: Int64] = [:]
        var grants: [String: Int64] = [:]
    }

    private let revoked = Mutex(Entries())
    /// When the last complete read of the store started, in nanoseconds after `origin`
    /// (negative: before it); `Int64.min`: never.
    private let syncedAt = Atomic<Int64>(.min)
    private let origin = ContinuousClock.now

    public init() {}

    /// Whether the name (a `jti`, or a `RevokedCredential` name) is revoked.
    public func contains(_ name: String) -> Bool {
        revoked.withLock { entries in
            if let tag = Self.grantTag(in: name) { return entries.grants[tag] != nil }
            return entries.names[name] != nil
        }
    }

    /// Whether the access token is revoked: by its `jti`, or by its grant's tag.
    public func contains(_ token: AccessToken) -> Bool {
        revoked.withLock { entries in
            entries.names[token.tokenID] != nil || token.grantTag.map { entries.grants[$0] != nil } == true
        }
    }

    public func insert(_ revocations: some Sequence<Revocation>) {
        revoked.withLock { entries in
            for revocation in revocations {
                if let tag = Self.grantTag(in: revocation.tokenID) {
                    entries.grants[tag] = revocation.expiresAt
                } else {
                    entries.names[revocation.tokenID] = revocation.expiresAt
                }
            }
        }
    }

    /// The tag a `grant:TAG` name (`RevokedCredential.grant(tag:)`) revokes; nil for any other name.
    private static func grantTag(in name: String) -> String? {
        guard name.hasPrefix(RevokedCredential.grantPrefix) else { return nil }
        return String(name.dropFirst(RevokedCredential.grantPrefix.count))
    }

    /// Forgets tokens that expired more than `margin` seconds ago: they fail on `exp` anyway.
    public func prune(now: Int64 = UnixTime.now(), margin: Int64 = 300) {
        revoked.withLock { entries in
            entries.names = entries.names.filter { $0.value + margin >= now }
            entries.grants = entries.grants.filter { $0.value + margin >= now }
        }
    }

    public var count: Int { revoked.withLock { $0.names.count + $0.grants.count } }

    /// Records that every revocation committed to the store before `instant` is in the list
    /// (a store read that started then has been applied).
    public func markSynced(at instant: ContinuousClock.Instant = .now) {
        let elapsed = instant - origin
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        _ = syncedAt.max(nanoseconds, ordering: .relaxed)
    }

    /// Whether the list caught up with the store less than `age` before `now`.
    public func isCurrent(within age: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        let synced = syncedAt.load(ordering: .relaxed)
        guard synced != .min else { return false }
        return now - (origin + .nanoseconds(synced)) < age
    }
}
