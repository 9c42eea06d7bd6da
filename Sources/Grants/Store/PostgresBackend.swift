@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit

/// PostgreSQL: a connection pool (postgres-kit) over NIO's shared event loops.
///
/// `@unchecked Sendable`: async-kit's pool is not annotated, but every use of it
/// goes through its own locks (postgres-kit shares it across tasks the same way).
final class PostgresBackend: StoreBackend, @unchecked Sendable {
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
            try await backend.session { try await $0.raw("SELECT 1").run() }
        } catch {
            await backend.close()
            throw StoreError(
                .unavailable, "the PostgreSQL store \(StoreLocation.postgres(url: url)) could not be reached: \(error)")
        }
        return backend
    }

    /// `BEGIN`, the body and `COMMIT` run in the session's own task (see `run`), so a caller
    /// that is cancelled can neither cut the transaction short nor skip its `ROLLBACK`.
    func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await session { database in
            try await database.raw("BEGIN").run()
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

    /// Statements on their own: each is committed when the protocol's `Sync` is processed,
    /// and its result may arrive before that. A write whose success is handed out (a token)
    /// goes through `transaction`, whose `COMMIT` answers only once the commit is durable.
    func session<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await pool.withConnection(logger: logger) { connection in
            Self.run(body, on: connection)
        }.get()
    }

    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await session(body)
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
