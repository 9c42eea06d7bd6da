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

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
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
