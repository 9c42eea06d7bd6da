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
        let backend: any StoreBackend
        switch location {
        case .sqlite(let path): backend = try await SQLiteBackend.open(path: path, logger: logger)
        case .postgres(let url): backend = try await PostgresBackend.open(url: url, logger: logger)
        }
        let store = Store(location: location, backend: backend, logger: logger)
        do {
            try await store.migrate()
        } catch {
            await backend.close()
            throw error
        }
        return store
    }

    public func close() async { await backend.close() }

    /// Whether the database answers (`/readyz`).
    public func ping() async throws(StoreError) {
        try await session("ping") { try await $0.raw("SELECT 1").run() }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    ///
    /// The transaction runs in a task of its own, so cancelling the caller (a client that
    /// hangs up mid-request) can neither interrupt it between statements nor skip its
    /// ROLLBACK and leave it open on the connection.
    func transaction<R: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StoreError) -> R {
        let begin = backend.beginStatement
        let work = Task { () async throws(StoreError) -> R in
            try await session(what) { database in
                try await database.raw(SQLQueryString(begin)).run()
                do {
                    let result = try await body(database)
                    try await database.raw("COMMIT").run()
                    return result
                } catch {
                    try? await database.raw("ROLLBACK").run()
                    throw error
                }
            }
        }
        do {
            return try await work.value
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.query, "the store could not \(what): \(error)")
        }
    }

    /// Runs `body` on one session, outside a transaction (single statements, reads).
    func session<R: Sendable>(
        _ what: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StoreError) -> R {
        do {
            return try await backend.withSession(body)
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
