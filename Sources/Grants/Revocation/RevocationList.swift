import JWT
import Synchronization

/// The revoked access tokens this gateway knows of, in memory, so the proxy
/// checks revocation without touching the store. Filled at start from the
/// store, at once by this gateway's own revocations, and by polling the store
/// for other gateways' (`RevocationSync`).
public final class RevocationList: Sendable {
    private let revoked = Mutex<[String: Int64]>([:])

    public init() {}

    public func contains(_ tokenID: String) -> Bool { revoked.withLock { $0[tokenID] != nil } }

    public func insert(_ revocations: some Sequence<Revocation>) {
        revoked.withLock { table in
            for revocation in revocations { table[revocation.tokenID] = revocation.expiresAt }
        }
    }

    /// Forgets tokens that expired more than `margin` seconds ago: they fail on `exp` anyway.
    public func prune(now: Int64 = UnixTime.now(), margin: Int64 = 300) {
        revoked.withLock { table in table = table.filter { $0.value + margin >= now } }
    }

    public var count: Int { revoked.withLock { $0.count } }
}
