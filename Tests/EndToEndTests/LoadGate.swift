/// Keeps the end-to-end tests that move a lot of data (1 GiB streams) apart from
/// those that measure a deadline (a reload within 2 s): on a two-core machine
/// running every suite at once, one would otherwise starve the other. Tests of
/// either kind run their body through `exclusively`; all others run freely.
actor LoadGate {
    static let shared = LoadGate()

    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` when no other test of either kind is running.
    func exclusively<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
