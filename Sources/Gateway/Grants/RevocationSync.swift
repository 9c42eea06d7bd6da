import Grants
import JWT
import Logging
import Policy
import ServiceLifecycle

/// Keeps the in-memory revocation list in step with the store, so a token
/// revoked through any gateway sharing the store (or `linkgate revoke`) is
/// refused here within `interval` plus one poll (docs/gateway.md §8: within 2 s).
/// The same list drops API tokens and OAuth 1.0a access tokens from the caches of
/// verified credentials, which stop answering when it falls 1.5 s behind (docs/links.md).
/// Also prunes expired rows from the store now and then.
struct RevocationSync: Service {
    let store: Store
    let revocations: RevocationList
    let metrics: GatewayMetrics?
    let logger: Logger
    var interval: Duration = .milliseconds(500)
    var pruneEvery = 120

    /// Rows are read again from this far back: a row committed late (a slow
    /// transaction that stamped its time earlier) is still seen.
    static let overlapMilliseconds: Int64 = 10_000

    func run() async throws {
        await cancelWhenGracefulShutdown { await poll() }
    }

    private func poll() async {
        var since = UnixMilliseconds.now() - Self.overlapMilliseconds
        var rounds = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let started = UnixMilliseconds.now()
            let startedInstant = ContinuousClock.now
            do {
                revocations.insert(try await store.revocations(sinceMilliseconds: since))
                // The caches of verified credentials trust themselves only while this is recent.
                revocations.markSynced(at: startedInstant)
                since = started - Self.overlapMilliseconds
            } catch {
                // Graceful shutdown cut this read short: not a store failure.
                if Task.isCancelled { break }
                metrics?.storeError()
                logger.warning("revocations could not be read from the store", metadata: ["error": "\(error)"])
            }
            rounds += 1
            if rounds % pruneEvery == 0 {
                revocations.prune()
                try? await store.prune()
            }
        }
    }
}
