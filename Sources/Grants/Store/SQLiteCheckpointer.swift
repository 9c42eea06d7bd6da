import Logging
import Synchronization
internal import VaporCSQLite

/// Checkpoints the SQLite store's write-ahead log on a connection and thread of its own,
/// so that no commit waits for one (docs/grants.md, "Transactions").
///
/// SQLite's default checkpoints run inside the commit that takes the log past 1,000
/// pages: that commit copies the log's pages into the database file and waits for two
/// `fsync`s, and so does every transaction group-committed with it. Here the write
/// connection's log hook only asks this thread for a checkpoint (`PASSIVE`: it copies
/// what no reader still needs and never blocks the writer), and the writer appends
/// meanwhile. Should the log still reach `ceiling` pages (a checkpoint that cannot keep
/// up, a reader holding an old snapshot), the writer checkpoints itself as before.
///
/// `@unchecked Sendable`: `handle` is used only on `thread`, by the one job `scheduled` lets run.
final class SQLiteCheckpointer: @unchecked Sendable {
    /// Log pages that ask for a checkpoint: SQLite's own default.
    static let threshold: Int32 = 1000
    /// Log pages past which the writer checkpoints itself.
    static let ceiling: Int32 = 10_000

    private let handle: SQLiteHandle
    private let thread: SQLiteThread
    private let logger: Logger
    private let scheduled = Atomic<Bool>(false)
    /// Checkpoints run here so far (tests).
    let completed = Atomic<Int>(0)

    private init(handle: SQLiteHandle, thread: SQLiteThread, logger: Logger) {
        self.handle = handle
        self.thread = thread
        self.logger = logger
    }

    /// Opens the connection on a new thread.
    static func open(path: String, logger: Logger) async throws(StoreError) -> SQLiteCheckpointer {
        let thread = SQLiteThread.start(name: "lg-sqlite-ckpt")
        let opened: Result<SQLiteHandle, StoreError> = await withTaskExecutorPreference(thread) {
            do {
                let handle = try SQLiteHandle.open(path: path, thread: thread, logger: logger)
                try handle.run("PRAGMA busy_timeout = 10000")
                return .success(handle)
            } catch {
                return .failure(StoreError(.unavailable, "the SQLite store \(path) could not be opened: \(error)"))
            }
        }
        switch opened {
        case .success(let handle): return SQLiteCheckpointer(handle: handle, thread: thread, logger: logger)
        case .failure(let error):
            thread.stop()
            throw error
        }
    }

    /// Lets the write connection `writer` ask for checkpoints after its commits.
    func watch(_ writer: SQLiteHandle) {
        writer.setLogHook(context: Unmanaged.passUnretained(self).toOpaque()) { context, database, name, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
            if pages >= SQLiteCheckpointer.ceiling {
                sqlite_nio_sqlite3_wal_checkpoint_v2(database, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= SQLiteCheckpointer.threshold {
                checkpointer.request()
            }
            return SQLITE_OK
        }
    }

    /// Runs a checkpoint on this thread soon, unless one is already waiting or running.
    func request() {
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Task(executorPreference: thread) {
            do {
                try self.handle.checkpoint()
                self.completed.add(1, ordering: .relaxed)
            } catch {
                self.logger.warning("the SQLite write-ahead log could not be checkpointed: \(error)")
            }
            self.scheduled.store(false, ordering: .releasing)
        }
    }

    /// Closes the connection once a running checkpoint is over. Call after the writer closed.
    func close() async {
        await withTaskExecutorPreference(thread) { self.handle.close() }
        thread.stop()
    }
}
