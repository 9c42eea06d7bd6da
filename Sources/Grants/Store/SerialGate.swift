/// An asynchronous mutex with FIFO hand-over: one task at a time runs its
/// body, the rest wait without blocking a thread. SQLite has one writer, and
/// one connection can hold only one transaction, so every use of the SQLite
/// store goes through one gate.
actor SerialGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()  // stays busy: ownership passes to the next waiter
        }
    }
}
