import SQLKit
import Synchronization

/// The work waiting for one SQLite connection, and the one task that does it, on
/// the connection's own thread (docs/grants.md, "Transactions").
///
/// The writer takes every transaction queued while the previous batch ran and
/// commits them together: `BEGIN IMMEDIATE`, each caller's body inside a savepoint
/// of its own, one `COMMIT`. A body that throws is rolled back to its savepoint and
/// answered with its error; the others commit. No caller is answered before the
/// `COMMIT` that holds its writes returns. The reader runs the reads queued together
/// in one read transaction, beside the writer (WAL).
final class SQLiteQueue: Sendable {
    enum Role: Sendable {
        case writer, reader
    }

    private struct State {
        var pending: [any QueuedWork] = []
        var idle: CheckedContinuation<Void, Never>?
        var closed = false
        var loop: Task<Void, Never>?
    }

    /// At most this many transactions share a commit, so the first of a long queue is not kept waiting.
    static let largestBatch = 256

    private let role: Role
    private let handle: SQLiteHandle
    private let thread: SQLiteThread
    private let state = Mutex(State())
    /// How many batches this queue has committed (tests check that concurrent transactions share one).
    let batches = Atomic<Int>(0)

    init(role: Role, handle: SQLiteHandle, thread: SQLiteThread) {
        self.role = role
        self.handle = handle
        self.thread = thread
        let loop = Task(executorPreference: thread) { await self.run() }
        state.withLock { $0.loop = loop }
    }

    /// Runs `body` in this queue's next batch; returns once that batch has committed.
    func submit<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            let work = QueuedBody(body, continuation)
            let (accepted, idle) = state.withLock { state in
                guard !state.closed else { return (false, nil as CheckedContinuation<Void, Never>?) }
                state.pending.append(work)
                defer { state.idle = nil }
                return (true, state.idle)
            }
            guard accepted else {
                return continuation.resume(throwing: StoreError(.unavailable, "the store is closed"))
            }
            idle?.resume()
        }
    }

    /// Finishes the work already queued, refuses more, and closes the connection.
    func close() async {
        let (idle, loop) = state.withLock { state in
            state.closed = true
            defer { state.idle = nil }
            return (state.idle, state.loop)
        }
        idle?.resume()
        await loop?.value
    }

    private func run() async {
        while let batch = await nextBatch() {
            switch role {
            case .writer: await commit(batch)
            case .reader: await read(batch)
            }
        }
        handle.close()
        thread.stop()
    }

    /// The work queued so far (up to `largestBatch`), waiting for some if there is none; nil once closed and drained.
    private func nextBatch() async -> [any QueuedWork]? {
        while true {
            let batch: [any QueuedWork]? = state.withLock { state in
                if state.pending.isEmpty { return state.closed ? [] : nil }
                let count = min(state.pending.count, Self.largestBatch)
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if let batch { return batch.isEmpty ? nil : batch }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if !state.pending.isEmpty || state.closed { return true }
                    state.idle = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// One write transaction for the whole batch, a savepoint for each member.
    private func commit(_ batch: [any QueuedWork]) async {
        if batch.count == 1 { return await commitAlone(batch[0]) }
        do {
            try handle.run("BEGIN IMMEDIATE")
        } catch {
            for work in batch { work.finish(failure: error) }
            return
        }
        var members: [any QueuedWork] = []
        for (index, work) in batch.enumerated() {
            await runMember(work)
            members.append(work)
            if handle.isAutocommit {
                // SQLite rolled the whole transaction back (an I/O error, a full disk): nothing of
                // this batch so far is written. Answer those, and give the rest a transaction of their own.
                for member in members { member.finish(failure: Self.rolledBack) }
                return await commit(Array(batch[(index + 1)...]))
            }
        }
        commitAndAnswer(members)
    }

    /// Commits the open transaction and answers `members`: each its own outcome, or all the
    /// `COMMIT`'s error (the transaction is then rolled back).
    private func commitAndAnswer(_ members: [any QueuedWork]) {
        do {
            try handle.run("COMMIT")
        } catch {
            if !handle.isAutocommit { try? handle.run("ROLLBACK") }
            for work in members { work.finish(failure: error) }
            return
        }
        batches.add(1, ordering: .relaxed)
        for work in members { work.finish(failure: nil) }
    }

    /// What members get when SQLite rolled their transaction back by itself (SQLITE_ABORT).
    private static var rolledBack: SQLiteFailure {
        SQLiteFailure(code: 4, message: "the transaction was rolled back by SQLite")
    }

    /// A batch of one needs no savepoint: its transaction is rolled back when its body throws.
    private func commitAlone(_ work: any QueuedWork) async {
        do {
            try handle.run("BEGIN IMMEDIATE")
        } catch {
            work.finish(failure: error)
            return
        }
        guard await work.run(on: handle) else {
            if !handle.isAutocommit { try? handle.run("ROLLBACK") }
            work.finish(failure: nil)
            return
        }
        guard !handle.isAutocommit else {
            work.finish(failure: Self.rolledBack)
            return
        }
        commitAndAnswer([work])
    }

    /// Runs one member inside its savepoint: released when its body returns, rolled back to when it throws.
    private func runMember(_ work: any QueuedWork) async {
        do {
            try handle.run("SAVEPOINT member")
        } catch {
            work.fail(error)
            return
        }
        let succeeded = await work.run(on: handle)
        guard !handle.isAutocommit else { return }
        do {
            if !succeeded { try handle.run("ROLLBACK TO member") }
            try handle.run("RELEASE member")
        } catch {
            work.fail(error)
            try? handle.run("ROLLBACK TO member")
            try? handle.run("RELEASE member")
        }
    }

    /// One read transaction (one snapshot) for the whole batch.
    private func read(_ batch: [any QueuedWork]) async {
        do {
            try handle.run("BEGIN")
        } catch {
            for work in batch { work.finish(failure: error) }
            return
        }
        for work in batch { _ = await work.run(on: handle) }
        if !handle.isAutocommit, (try? handle.run("COMMIT")) == nil { try? handle.run("ROLLBACK") }
        for work in batch { work.finish(failure: nil) }
    }
}

/// A caller's body waiting in an `SQLiteQueue`, and how to answer the caller.
protocol QueuedWork: AnyObject, Sendable {
    /// Runs the body; false when it threw.
    func run(on database: any SQLDatabase) async -> Bool
    /// Records a failure of the body's transaction step (its savepoint could not be released).
    func fail(_ error: any Error)
    /// Answers the caller: the body's outcome, or `failure` when its transaction did not commit.
    func finish(failure: (any Error)?)
}

/// `@unchecked Sendable`: `outcome` is written and read only by the queue's one task.
private final class QueuedBody<R: Sendable>: QueuedWork, @unchecked Sendable {
    private let body: @Sendable (any SQLDatabase) async throws -> R
    private let continuation: CheckedContinuation<R, any Error>
    private var outcome: Result<R, any Error>?

    init(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R,
        _ continuation: CheckedContinuation<R, any Error>
    ) {
        self.body = body
        self.continuation = continuation
    }

    func run(on database: any SQLDatabase) async -> Bool {
        do {
            outcome = .success(try await body(database))
            return true
        } catch {
            outcome = .failure(error)
            return false
        }
    }

    func fail(_ error: any Error) {
        if case .success = outcome { outcome = .failure(error) }
        if outcome == nil { outcome = .failure(error) }
    }

    func finish(failure: (any Error)?) {
        switch (outcome, failure) {
        case (.success?, let failure?): continuation.resume(throwing: failure)
        case (let outcome?, _): continuation.resume(with: outcome)
        case (nil, let failure): continuation.resume(throwing: failure ?? StoreError(.query, "the work did not run"))
        }
    }
}
