import Logging
import SQLKit

/// SQLite: a write connection that group-commits and a read connection beside it
/// (WAL), each driven on a thread of its own (docs/grants.md, "Transactions").
///
/// `synchronous=NORMAL` with WAL: a committed transaction is in the log, in the
/// OS's page cache, before its caller is answered, so it survives a killed process;
/// only a power loss or an OS crash may drop the last commits.
final class SQLiteBackend: StoreBackend {
    private let writer: SQLiteQueue
    private let reader: SQLiteQueue?

    private init(writer: SQLiteQueue, reader: SQLiteQueue?) {
        self.writer = writer
        self.reader = reader
    }

    static func open(path: String, logger: Logger) async throws(StoreError) -> SQLiteBackend {
        if path != ":memory:" { try SQLiteFiles.prepare(path: path, logger: logger) }
        // busy_timeout: another process (`linkgate revoke`, a second gateway) may hold the write lock briefly.
        // temp_store: the savepoint of each group-committed transaction keeps its pages' copies in memory,
        // not in a temporary file written for every page (docs/grants.md, "Transactions").
        let writer = try await connect(
            path: path, role: .writer, logger: logger,
            pragmas: [
                "PRAGMA busy_timeout = 10000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON", "PRAGMA temp_store = MEMORY",
            ])
        // A private in-memory database has one connection: its reads queue with its writes.
        guard path != ":memory:" else { return SQLiteBackend(writer: writer, reader: nil) }
        do {
            let reader = try await connect(
                path: path, role: .reader, logger: logger,
                pragmas: ["PRAGMA busy_timeout = 10000", "PRAGMA query_only = ON"])
            return SQLiteBackend(writer: writer, reader: reader)
        } catch {
            await writer.close()
            throw error
        }
    }

    /// Opens a connection on a new thread, sets it up there, and starts its queue.
    private static func connect(
        path: String, role: SQLiteQueue.Role, logger: Logger, pragmas: [String]
    ) async throws(StoreError) -> SQLiteQueue {
        let thread = SQLiteThread.start(name: role == .writer ? "lg-sqlite-write" : "lg-sqlite-read")
        let opened: Result<SQLiteHandle, StoreError> = await withTaskExecutorPreference(thread) {
            let handle: SQLiteHandle
            do {
                handle = try SQLiteHandle.open(path: path, thread: thread, logger: logger)
            } catch {
                return .failure(StoreError(.unavailable, "the SQLite store \(path) could not be opened: \(error)"))
            }
            do {
                for pragma in pragmas { try handle.run(pragma) }
            } catch {
                handle.close()
                return .failure(StoreError(.unavailable, "the SQLite store \(path) could not be set up: \(error)"))
            }
            return .success(handle)
        }
        switch opened {
        case .success(let handle): return SQLiteQueue(role: role, handle: handle, thread: thread)
        case .failure(let error):
            thread.stop()
            throw error
        }
    }

    /// How many write batches have committed so far.
    var writeBatches: Int { writer.batches.load(ordering: .relaxed) }

    func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await writer.submit(body)
    }

    func session<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await writer.submit(body)
    }

    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await (reader ?? writer).submit(body)
    }

    func close() async {
        await reader?.close()
        await writer.close()
    }
}
