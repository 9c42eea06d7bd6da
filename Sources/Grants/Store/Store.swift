import Logging
import SQLKit

/// The gateway's runtime data (docs/gateway.md §8) over SQLKit, on SQLite or
/// PostgreSQL with the same SQL: signing keys, issued access tokens, the
/// assertion replay table, revocations and the audit log.
///
/// Credentials are never stored: access tokens are kept by their `jti`,
/// assertions by `jti` or SHA-256. Every change of more than one row runs in
/// one transaction, so a killed process leaves none half-written.
public final class Store: Sendable {
    public let location: StoreLocation
    let backend: any StoreBackend
    let logger: Logger
    /// This gateway's view of SQLite's OAuth 1.0a nonce log (unused on PostgreSQL).
    let nonceLog = NonceLogView()

    private init(location: StoreLocation, backend: any StoreBackend, logger: Logger) {
        self.location = location
        self.backend = backend
        self.logger = logger
    }

    /// Opens the store, creating an SQLite file on first use, and brings its schema up to date.
    /// - Throws: `StoreError` `.unavailable` when the database cannot be opened or reached,
    ///   `.migration` when its schema is newer than this binary.
    public static func open(
        _ location: StoreLocation, logger: Logger = Logger(label: "linkgate.store")
    ) async throws(StoreError) -> Store {
        try await open(location, logger: logger, schemaThrough: nil)
    }

    /// Opens the store with its schema brought up to `schemaThrough` only (nil: the latest),
    /// as an older linkgate left it (tests of a migration).
    static func open(
        _ location: StoreLocation, logger: Logger = Logger(label: "linkgate.store"), schemaThrough: Int?
    ) async throws(StoreError) -> Store {
        let backend: any StoreBackend
        switch location {
        case .sqlite(let path): backend = try await SQLiteBackend.open(path: path, logger: logger)
        case .postgres(let url): backend = try await PostgresBackend.open(url: url, logger: logger)
        }
        let store = Store(location: location, backend: backend, logger: logger)
        do {
            try await store.migrate(through: schemaThrough)
        } catch {
            await backend.close()
            throw error
        }
        return store
    }

    public func close() async { await backend.close() }

    /// Whether the database answers (`/readyz`).
    public func ping() async throws(StoreError) {
        try await read("ping") { try await $0.raw("SELECT 1").run() }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws;
    /// returns only once it has committed (docs/grants.md, "Transactions"). A body that throws
    /// `RolledBack` is rolled back and its answer returned.
    ///
    /// On SQLite it shares its `COMMIT` with the transactions queued beside it, each in a
    /// savepoint of its own, so one that throws never fails the others. The body runs apart
    /// from the caller's task, so cancelling the caller (a client that hangs up mid-request)
    /// can neither interrupt it between statements nor skip its rollback.
    func transaction<R: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StoreError) -> R {
        try await perform(what) { backend in
            do {
                return try await backend.transaction(body)
            } catch let rolledBack as RolledBack<R> {
                return rolledBack.answer
            }
        }
    }

    /// Runs `body`, which may write, on one session (single statements; on SQLite a
    /// transaction all the same, committed with its batch).
    func session<R: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StoreError) -> R {
        try await perform(what) { try await $0.session(body) }
    }

    /// Runs `body`, which only reads: on SQLite on the read connection, beside any write
    /// transaction, on a snapshot holding every write committed before the call.
    func read<R: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StoreError) -> R {
        try await perform(what) { try await $0.read(body) }
    }

    private func perform<R: Sendable>(
        _ what: String, _ work: (any StoreBackend) async throws -> R
    ) async throws(StoreError) -> R {
        do {
            return try await work(backend)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.query, "the store could not \(what): \(error)")
        }
    }

    var isPostgres: Bool {
        if case .postgres = location { true } else { false }
    }
}

/// Thrown by a transaction's body to roll its writes back and still answer:
/// `Store.transaction` returns `answer` (a grant its checks refused after a
/// statement that both wrote and read what they needed).
struct RolledBack<Answer: Sendable>: Error {
    let answer: Answer
}
