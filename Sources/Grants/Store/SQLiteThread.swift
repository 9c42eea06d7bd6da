import Foundation

/// A thread of its own for one SQLite connection, as a task executor: a task that
/// prefers it runs its SQLite calls there, one job after another, so blocking file
/// I/O (and a busy wait on another process's lock) never holds a thread of Swift's
/// cooperative pool or of NIO's event loops (docs/grants.md, "Transactions").
///
/// `@unchecked Sendable`: the job queue is only touched under `condition`.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    private init() {}

    /// Starts the thread; it runs until `stop()`.
    static func start(name: String) -> SQLiteThread {
        let executor = SQLiteThread()
        let thread = Thread { executor.main() }
        thread.name = name
        thread.start()
        return executor
    }

    /// Signals after unlocking: woken while the lock is still held, the thread would
    /// take the CPU (the same one, when pinned with the caller), find the lock taken,
    /// sleep on it, and need a second wake-up from the unlock (docs/grants.md,
    /// "Transactions"). The thread looks for jobs under the lock before it waits, so
    /// none is missed.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.unlock()
        condition.signal()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.unlock()
        condition.signal()
    }

    private func main() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
