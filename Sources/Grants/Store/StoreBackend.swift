@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// One database under the store: how to get a session (a connection held for
/// the whole body, so a transaction stays on it) and how to close.
protocol StoreBackend: Sendable {
    /// `BEGIN IMMEDIATE` for SQLite (take the write lock up front, so two
    /// writers never deadlock on an upgrade), `BEGIN` for PostgreSQL.
    var beginStatement: String { get }
    /// Runs `body` with a session no other task uses meanwhile.
    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    func close() async
}

/// SQLite: one connection in WAL mode, used by one task at a time.
///
/// `synchronous=NORMAL` with WAL survives a killed process (the log is in the
/// OS's page cache); only a power loss may drop the last commits.
final class SQLiteBackend: StoreBackend {
    let beginStatement = "BEGIN IMMEDIATE"
    private let connection: SQLiteConnection
    private let gate = SerialGate()

    private init(connection: SQLiteConnection) { self.connection = connection }

    static func open(path: String, logger: Logger) async throws(StoreError) -> SQLiteBackend {
        if path != ":memory:" { try SQLiteFiles.prepare(path: path, logger: logger) }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: path == ":memory:" ? .memory : .file(path: path), threadPool: .singleton, logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            throw StoreError(.unavailable, "the SQLite store \(path) could not be opened: \(error)")
        }
        let database = connection.sql()
        do {
            // busy_timeout: another process (`linkgate revoke`, a second gateway) may hold the write lock briefly.
            for pragma in [
                "PRAGMA busy_timeout = 10000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON",
            ] {
                try await database.raw(SQLQueryString(pragma)).run()
            }
        } catch {
            try? await connection.close()
            throw StoreError(.unavailable, "the SQLite store \(path) could not be set up: \(error)")
        }
        return SQLiteBackend(connection: connection)
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let database = connection.sql()
        return try await gate.run { try await body(database) }
    }

    func close() async { try? await gate.run { try await self.connection.close() } }
}

/// PostgreSQL: a connection pool (postgres-kit) over NIO's shared event loops.
///
/// `@unchecked Sendable`: async-kit's pool is not annotated, but every use of it
/// goes through its own locks (postgres-kit shares it across tasks the same way).
final class PostgresBackend: StoreBackend, @unchecked Sendable {
    let beginStatement = "BEGIN"
    private let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    private let logger: Logger

    private init(pool: EventLoopGroupConnectionPool<PostgresConnectionSource>, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    static func open(url: String, logger: Logger) async throws(StoreError) -> PostgresBackend {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError(
                .badLocation,
                "the PostgreSQL URL \(StoreLocation.postgres(url: url)) is not valid "
                    + "(postgres://user:pass@host:port/db, optionally ?sslmode=disable|prefer|require)")
        }
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration), maxConnectionsPerEventLoop: 4,
            requestTimeout: .seconds(10), logger: logger, on: MultiThreadedEventLoopGroup.singleton)
        let backend = PostgresBackend(pool: pool, logger: logger)
        do {
            try await backend.withSession { try await $0.raw("SELECT 1").run() }
        } catch {
            await backend.close()
            throw StoreError(
                .unavailable, "the PostgreSQL store \(StoreLocation.postgres(url: url)) could not be reached: \(error)")
        }
        return backend
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await pool.withConnection(logger: logger) { connection in
            Self.run(body, on: connection)
        }.get()
    }

    /// How often a session checks that its connection is still open.
    static let closedConnectionCheck = TimeAmount.milliseconds(100)

    /// Runs `body` on `connection`, and gives up with `StoreError` as soon as the
    /// connection is closed (the server stopped or crashed, docs/testing.md "Fault
    /// tests"): PostgresNIO never answers a query written to a connection that closed
    /// between two statements, which would hold the request, and the pool's lease on
    /// the connection, for ever. Once given up, the lease goes back to the pool, which
    /// drops the closed connection; the abandoned body stays suspended on the dead
    /// connection, with nothing else waiting on it.
    private static func run<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R, on connection: PostgresConnection
    ) -> EventLoopFuture<R> {
        let loop = connection.eventLoop
        guard !connection.isClosed else { return loop.makeFailedFuture(closedError) }
        let promise = loop.makePromise(of: R.self)
        let work = Task {
            do {
                promise.succeed(try await body(connection.sql(queryLogLevel: nil)))
            } catch {
                promise.fail(error)
            }
        }
        let watch = loop.scheduleRepeatedTask(initialDelay: closedConnectionCheck, delay: closedConnectionCheck) {
            task in
            guard connection.isClosed else { return }
            task.cancel()
            work.cancel()
            promise.fail(closedError)  // ignored when the body finished first
        }
        promise.futureResult.whenComplete { _ in watch.cancel() }
        return promise.futureResult
    }

    private static var closedError: StoreError {
        StoreError(.unavailable, "the connection to PostgreSQL closed during the query")
    }

    func close() async { try? await pool.shutdownAsync() }
}
