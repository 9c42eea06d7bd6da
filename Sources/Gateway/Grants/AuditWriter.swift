import Grants
import Logging
import ServiceLifecycle
import Synchronization

/// Writes decisions to the store's audit table in batches, off the request
/// path: a request appends to a buffer; this service flushes it every
/// `interval` and at shutdown. If the store is down the buffer is kept (up
/// to `capacity` entries, then the oldest are dropped and counted).
final class AuditWriter: Service, Sendable {
    let store: Store
    let interval: Duration
    let capacity: Int
    let metrics: GatewayMetrics?
    let logger: Logger
    private let buffer = Mutex<[AuditEntry]>([])

    init(
        store: Store, metrics: GatewayMetrics?, logger: Logger, interval: Duration = .milliseconds(200),
        capacity: Int = 100_000
    ) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
        self.capacity = capacity
    }

    func record(_ entry: AuditEntry) {
        let dropped: Bool = buffer.withLock { entries in
            entries.append(entry)
            guard entries.count > capacity else { return false }
            entries.removeFirst(entries.count - capacity)
            return true
        }
        if dropped { metrics?.storeError() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        await flush()
    }

    /// Writes what is buffered; on failure puts it back for the next round.
    func flush() async {
        let batch = buffer.withLock { entries in
            defer { entries.removeAll(keepingCapacity: true) }
            return entries
        }
        guard !batch.isEmpty else { return }
        for chunk in stride(from: 0, to: batch.count, by: 500).map({ batch[$0..<min($0 + 500, batch.count)] }) {
            do {
                try await store.append(audit: Array(chunk))
            } catch {
                let rest = batch[chunk.startIndex...]
                buffer.withLock { $0.insert(contentsOf: rest, at: 0) }
                // Graceful shutdown cut this write short: not a store failure, and the
                // final flush in `run` writes the rest.
                if Task.isCancelled { return }
                metrics?.storeError()
                logger.error("the audit log could not be written; will retry", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
