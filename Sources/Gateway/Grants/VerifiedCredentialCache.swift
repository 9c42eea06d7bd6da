import Grants
import JWT
import Synchronization

/// API tokens or OAuth 1.0a access tokens the store has vouched for, so a credential
/// used again costs a SHA-256 and a dictionary lookup instead of a store round trip
/// (docs/links.md, "Verified credentials in memory").
///
/// Keyed by the credential's SHA-256, never the credential: the table holds the
/// first 8 bytes as its key and compares the whole digest in constant time. Only
/// what the store returned as live goes in, never a refusal, so only holders of
/// real credentials can fill it. An entry is answered only while all of these hold:
/// - it is younger than `lifetime` (then the store is asked again);
/// - the credential's own expiry has not passed;
/// - the revocation list has caught up with the store within `staleness`, and does
///   not name the credential (`RevokedCredential`): so a revocation anywhere reaches
///   this gateway's memory within 2 s, and a gateway that cannot read the store stops
///   trusting its memory.
///
/// Bounded: at `capacity` entries the stale ones are dropped, and if that is not
/// enough, all of them (a credential is looked up again at worst).
final class VerifiedCredentialCache<Value: Sendable>: Sendable {
    struct Entry: Sendable {
        let digest: [UInt8]
        let value: Value
        /// The credential's name in the revocation list.
        let revocationID: String
        /// Unix time after which the credential is expired; nil: it does not expire.
        let expiresAt: Int64?
        /// When the store lookup that vouched for it started.
        let verifiedAt: ContinuousClock.Instant
    }

    let capacity: Int
    let lifetime: Duration
    let staleness: Duration
    private let entries = Mutex<[UInt64: Entry]>([:])

    init(
        capacity: Int = 10_000, lifetime: Duration = .seconds(RevokedCredential.cacheLifetime),
        staleness: Duration = .milliseconds(1500)
    ) {
        self.capacity = capacity
        self.lifetime = lifetime
        self.staleness = staleness
    }

    var count: Int { entries.withLock { $0.count } }

    /// The value vouched for `credential`, if every condition above holds; otherwise nil,
    /// and the caller asks the store.
    func lookup(
        _ credential: some StringProtocol, revocations: RevocationList, now: ContinuousClock.Instant = .now,
        unixNow: Int64 = UnixTime.now()
    ) -> Value? {
        let digest = Self.digest(credential)
        let key = Self.key(digest)
        let found: Entry? = entries.withLock { table in
            guard let entry = table[key], ConstantTime.equals(entry.digest, digest) else { return nil }
            guard now - entry.verifiedAt < lifetime, entry.expiresAt.map({ $0 > unixNow }) ?? true else {
                table[key] = nil
                return nil
            }
            return entry
        }
        guard let found, revocations.isCurrent(within: staleness, now: now) else { return nil }
        guard !revocations.contains(found.revocationID) else {
            entries.withLock { table in
                if table[key].map({ ConstantTime.equals($0.digest, digest) }) == true { table[key] = nil }
            }
            return nil
        }
        return found.value
    }

    /// Keeps `value` for `credential`, which the store found live in a lookup that started at `verifiedAt`.
    func insert(
        _ credential: some StringProtocol, value: Value, revocationID: String, expiresAt: Int64?,
        verifiedAt: ContinuousClock.Instant
    ) {
        let digest = Self.digest(credential)
        let entry = Entry(
            digest: digest, value: value, revocationID: revocationID, expiresAt: expiresAt, verifiedAt: verifiedAt)
        entries.withLock { table in
            if table.count >= capacity, table[Self.key(digest)] == nil {
                let now = ContinuousClock.now
                table = table.filter { now - $0.value.verifiedAt < lifetime }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[Self.key(digest)] = entry
        }
    }

    static func digest(_ credential: some StringProtocol) -> [UInt8] {
        Digest.sha256.hash(credential.utf8)
    }

    /// The table key: the digest's first 8 bytes. Two credentials sharing them only evict each other.
    static func key(_ digest: [UInt8]) -> UInt64 {
        digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
