import Foundation

/// A value that changes on other threads (a process's output, its exit), and
/// tasks waiting for a condition on it: each wait ends as soon as the condition
/// holds after a change, when the value can no longer change (`finish`), or at
/// its deadline, whichever comes first. No wait polls or holds a thread.
final class Watched<Value: Sendable>: @unchecked Sendable {
    private struct Waiter {
        let condition: @Sendable (Value) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
        var deadline: Task<Void, Never>?
    }

    private let lock = NSLock()
    private var value: Value
    private var finished = false
    private var waiters: [UUID: Waiter] = [:]

    init(_ value: Value) { self.value = value }

    var current: Value { lock.withLock { value } }
    var isFinished: Bool { lock.withLock { finished } }

    /// Changes the value, and wakes the waiters whose condition now holds.
    /// - Parameter finishing: no change comes after this one: every other waiter is woken with false.
    /// - Returns: false if the value was finished before (nothing changed).
    @discardableResult
    func update(finishing: Bool = false, _ change: (inout Value) -> Void) -> Bool {
        let woken: [(Waiter, Bool)]? = lock.withLock {
            guard !finished else { return nil }
            change(&value)
            finished = finishing
            var woken: [(Waiter, Bool)] = []
            for (id, waiter) in waiters {
                let holds = waiter.condition(value)
                guard holds || finishing else { continue }
                woken.append((waiter, holds))
                waiters[id] = nil
            }
            return woken
        }
        guard let woken else { return false }
        for (waiter, holds) in woken {
            waiter.deadline?.cancel()
            waiter.continuation.resume(returning: holds)
        }
        return true
    }

    /// No more changes: wakes every waiter whose condition does not hold with false.
    /// - Returns: false if it was finished before.
    @discardableResult
    func finish() -> Bool { update(finishing: true) { _ in } }

    /// Waits until `condition` holds on the value, at most `timeout` seconds.
    /// - Returns: whether it holds (false at the deadline, or once the value is finished without it).
    func wait(timeout: TimeInterval, until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        let id = UUID()
        return await withCheckedContinuation { continuation in
            let answer: Bool? = lock.withLock {
                if condition(value) { return true }
                if finished { return false }
                waiters[id] = Waiter(condition: condition, continuation: continuation)
                return nil
            }
            if let answer {
                continuation.resume(returning: answer)
                return
            }
            let deadline = Task {
                try? await Task.sleep(for: .seconds(timeout))
                self.expire(id)
            }
            let stillWaiting = lock.withLock {
                waiters[id]?.deadline = deadline
                return waiters[id] != nil
            }
            if !stillWaiting { deadline.cancel() }
        }
    }

    private func expire(_ id: UUID) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: false)
    }
}

/// Everything a process printed so far, appended from the pipe's reader thread;
/// finished at the end of the pipe.
final class OutputBuffer: Sendable {
    private let data = Watched(Data())

    func append(_ more: Data) { data.update { $0.append(more) } }
    /// The end of the output: the process closed the pipe (it exited).
    /// - Returns: false if it had ended before.
    @discardableResult
    func end() -> Bool { data.finish() }
    var hasEnded: Bool { data.isFinished }
    var text: String { String(decoding: data.current, as: UTF8.self) }

    /// Waits until `condition` holds on the text, at most `timeout` seconds; false if it did not,
    /// or if the output ended without it.
    func wait(timeout: TimeInterval, until condition: @escaping @Sendable (String) -> Bool) async -> Bool {
        await data.wait(timeout: timeout) { condition(String(decoding: $0, as: UTF8.self)) }
    }

    /// Waits for the end of the output, at most `timeout` seconds; whether it ended.
    func waitForEnd(timeout: TimeInterval) async -> Bool {
        _ = await data.wait(timeout: timeout) { _ in false }
        return hasEnded
    }
}

extension OutputBuffer {
    /// A buffer filled from `pipe` by a thread of its own, reading until the end of the
    /// pipe, then calling `onEnd`. (A `readabilityHandler` can miss the end of a pipe when
    /// parallel tests reuse the number of a descriptor closed before its dispatch source was.)
    /// Both ends are made close-on-exec first, so that processes other tests start meanwhile
    /// do not inherit the pipe and hold it open; the child gets its end by `dup2`, which clears the flag.
    static func reading(_ pipe: Pipe, onEnd: @escaping @Sendable () -> Void = {}) -> OutputBuffer {
        let buffer = OutputBuffer()
        let source = pipe.fileHandleForReading
        for fd in [source.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(source.fileDescriptor, &chunk, chunk.count)
                if count > 0 {
                    buffer.append(Data(chunk[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            buffer.end()
            onEnd()
        }
        return buffer
    }
}
