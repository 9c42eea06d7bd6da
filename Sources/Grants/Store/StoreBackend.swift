import SQLKit

/// One database under the store: where a transaction, a lone write and a read run
/// (docs/grants.md, "Transactions").
protocol StoreBackend: Sendable {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// Returns only once the transaction has committed.
    func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body`, which may write, on a session no other task uses meanwhile; its writes
    /// have committed when it returns.
    func session<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body`, which only reads, on a snapshot that holds every write committed before the call.
    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    func close() async
}
