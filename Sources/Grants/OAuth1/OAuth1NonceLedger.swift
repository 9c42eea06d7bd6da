import JWT
import Synchronization

/// Spends OAuth 1.0a nonces (docs/links.md, "Nonces"): a per-gateway window refuses a
/// nonce seen here without asking the store; a new one is then written to the store
/// with the others arriving at the same moment, in one write (group commit:
/// `Store.recordNonceDigests`), and the request waits for that write. The store decides
/// (PostgreSQL's unique key, SQLite's nonce log), so a nonce replayed to another gateway
/// sharing the store is refused as before, while the store sees one write per batch
/// instead of one per request.
public final class OAuth1NonceLedger: Sendable {
    /// What one waiting request learns: whether its nonce was new.
    public typealias Completion = @Sendable (Result<Bool, StoreError>) -> Void

    struct Pending {
        let digest: NonceDigest
        let expiresAt: Int64
        let completion: Completion
    }

    struct State {
        /// Digests of nonces spent here, with when their timestamp leaves the window.
        var seen: [NonceDigest: Int64] = [:]
        var pending: [Pending] = []
        var writing = false
    }

    let store: Store
    /// At most this many nonces are remembered here; past it, the expired ones and then
    /// all are forgotten (the store still refuses a replay).
    let capacity: Int
    /// At most this many nonces go into one write.
    let batchLimit: Int
    private let state = Mutex(State())

    public init(store: Store, capacity: Int = 100_000, batchLimit: Int = 500) {
        self.store = store
        self.capacity = capacity
        self.batchLimit = batchLimit
    }

    /// Spends the nonce `key` (consumer, token, timestamp and nonce); false when it was
    /// spent before, here or on any gateway sharing the store. Returns only once the
    /// store has the nonce.
    /// - Throws: `StoreError` when the store cannot record it.
    public func spend(_ key: String, expiresAt: Int64, now: Int64 = UnixTime.now()) async throws(StoreError) -> Bool {
        let result = await withCheckedContinuation { (waiter: CheckedContinuation<Result<Bool, StoreError>, Never>) in
            spend(key, expiresAt: expiresAt, now: now) { waiter.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Spends the nonce `key` as `spend(_:expiresAt:now:)` does, and calls `completion`
    /// once the store has it: at once, on the calling thread, for a nonce seen here before;
    /// otherwise on the writer's thread, so a caller bound to an event loop hops back.
    public func spend(_ key: String, expiresAt: Int64, now: Int64 = UnixTime.now(), completion: @escaping Completion) {
        // Only the digest is kept: the key holds the access token.
        let digest = NonceDigest(key: key)
        let startWriter: Bool? = state.withLock { state in
            if let until = state.seen[digest], until >= now { return nil }
            if state.seen.count >= capacity { Self.forget(&state.seen, now: now, capacity: capacity) }
            state.seen[digest] = expiresAt
            state.pending.append(Pending(digest: digest, expiresAt: expiresAt, completion: completion))
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        switch startWriter {
        case nil: completion(.success(false))
        case true?: Task { await self.writeBatches() }
        case false?: break
        }
    }

    /// Writes what is pending, one batch at a time, until nothing is.
    private func writeBatches() async {
        while true {
            let batch: [Pending] = state.withLock { state in
                let batch = Array(state.pending.prefix(batchLimit))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let recorded = try await store.recordNonceDigests(batch.map { ($0.digest, $0.expiresAt) })
                for pending in batch { pending.completion(.success(recorded.contains(pending.digest))) }
            } catch {
                // Not recorded: forget them here too, so a retry asks the store again.
                state.withLock { state in for pending in batch { state.seen[pending.digest] = nil } }
                for pending in batch { pending.completion(.failure(error)) }
            }
        }
    }

    /// Makes room: drops nonces whose timestamp has left the window, or all of them.
    private static func forget(_ seen: inout [NonceDigest: Int64], now: Int64, capacity: Int) {
        seen = seen.filter { $0.value >= now }
        if seen.count >= capacity { seen.removeAll(keepingCapacity: true) }
    }
}
