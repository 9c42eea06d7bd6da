import Foundation
import Grants
import TestSupport
import Testing

/// The stores the conformance tests run against: a new SQLite file, and a new
/// database on the throwaway PostgreSQL cluster of `scripts/with-postgres.sh`
/// (`make test` starts it; without `LINKGATE_TEST_POSTGRES` only SQLite runs).
enum TestStores {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static var available: [Kind] {
        PostgresCluster.isAvailable ? [.sqlite, .postgres] : [.sqlite]
    }

    /// A fresh, empty store location of `kind`.
    static func fresh(_ kind: Kind) throws -> StoreLocation {
        switch kind {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "linkgate-store-\(UUID().uuidString).sqlite"
            ).path
            return .sqlite(path: path)
        case .postgres:
            return .postgres(url: try PostgresCluster.newDatabase())
        }
    }
}

extension TestStores {
    /// Runs `body` on a fresh store of `kind`, closing it whatever happens.
    static func with(_ kind: Kind, _ body: (Store) async throws -> Void) async throws {
        let store = try await Store.open(try fresh(kind))
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
