import Synchronization

/// What this gateway knows of SQLite's OAuth 1.0a nonce log (docs/links.md, "Nonces"):
/// the digests of the log's rows it has read or written, by their sequence number, and
/// the last sequence number it has seen.
///
/// The log is append-only and merged into `oauth1_nonces` as a whole, so its rows are
/// always those past some sequence number (the floor). Every row this view holds is a
/// committed, spent nonce; a row it lacks is past `lastSequence` (read in the next
/// transaction) or was merged (found by the key of `oauth1_nonces`). Entries below the
/// floor are dropped once a transaction saw the floor rise, so the view holds about one
/// log's worth of nonces.
final class NonceLogView: Sendable {
    struct Entry {
        let sequence: Int64
        let expiresAt: Int64
    }

    private struct State {
        var entries: [NonceDigest: Entry] = [:]
        var lastSequence: Int64 = 0
        /// The lowest sequence number among `entries` (`Int64.max` when there is none).
        var lowest = Int64.max
    }

    private let state = Mutex(State())

    /// The last sequence number read or written here; the next transaction reads the rows past it.
    var lastSequence: Int64 { state.withLock { $0.lastSequence } }

    /// The digests among `digests` that this view holds as spent.
    func spent(among digests: some Sequence<NonceDigest>) -> Set<NonceDigest> {
        state.withLock { state in Set(digests.filter { state.entries[$0] != nil }) }
    }

    /// Takes in a committed transaction's view of the log: drops the entries below `floor`
    /// (merged or pruned since), adds `rows` (read or written by it, and still in the log),
    /// and notes that it has seen the log through sequence number `last`.
    func apply(_ rows: [(sequence: Int64, digest: NonceDigest, expiresAt: Int64)], floor: Int64, through last: Int64) {
        state.withLock { state in
            state.lastSequence = max(state.lastSequence, last)
            if floor > state.lowest {
                state.entries = state.entries.filter { $0.value.sequence >= floor }
                state.lowest = state.entries.values.lazy.map(\.sequence).min() ?? .max
            }
            for row in rows where row.sequence >= floor {
                state.entries[row.digest] = Entry(sequence: row.sequence, expiresAt: row.expiresAt)
                state.lowest = min(state.lowest, row.sequence)
            }
        }
    }

    /// Forgets the nonces that expired before `horizon`, as the prune deletes their rows.
    func forget(expiredBefore horizon: Int64) {
        state.withLock { state in
            state.entries = state.entries.filter { $0.value.expiresAt >= horizon }
            state.lowest = state.entries.values.lazy.map(\.sequence).min() ?? .max
        }
    }
}
