import Foundation
import JWT
import SQLKit
import SQLiteKit
import Testing

@testable import Grants

/// Many grant transactions at once (docs/grants.md, "Transactions"): each caller gets
/// its own answer, whichever transactions share a commit.
@Suite("Store under concurrent grants (SQLite and PostgreSQL)")
struct StoreConcurrencyTests {
    @Test(
        "200 concurrent exchanges with 20 replayed assertions: 180 tokens, 20 single-use refusals",
        arguments: TestStores.available)
    func replaysAmongABurst(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            // 180 distinct assertions; 20 of them are presented a second time in the same burst.
            let keys = (0..<180).map { "jti:com.example.automation:burst-\($0)" }
            let presented = (keys + keys.prefix(20)).shuffled()
            let outcomes = try await withThrowingTaskGroup(of: (String, String, Bool).self) { group in
                for key in presented {
                    group.addTask {
                        let token = StoreConformanceTests.exchanged(key)
                        let issued = try await store.recordExchange(
                            replayKey: key, replayExpiresAt: UnixTime.now() + 90, token: token)
                        return (key, token.tokenID, issued)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let issued = outcomes.filter(\.2)
            #expect(issued.count == 180)
            #expect(outcomes.count - issued.count == 20)
            #expect(Set(issued.map(\.0)).count == 180)  // each assertion gave exactly one token
            for (_, tokenID, _) in issued { #expect(try await store.issuedToken(id: tokenID) != nil) }
            let counts = try await store.counts()
            #expect(counts.accessTokens == 180 && counts.spentAssertions == 180 && counts.orphanReplays == 0)
        }
    }

    @Test("concurrent transactions on SQLite share commits")
    func groupCommit() async throws {
        try await TestStores.with(.sqlite) { store in
            let backend = try #require(store.backend as? SQLiteBackend)
            let before = backend.writeBatches
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 { group.addTask { try await store.recordIssued(StoreConformanceTests.token()) } }
                try await group.waitForAll()
            }
            let commits = backend.writeBatches - before
            #expect(commits >= 1 && commits < 200, "200 transactions took \(commits) commits")
            #expect(try await store.counts().accessTokens == 200)
            // Each transaction's savepoint keeps its page copies in memory, not in a temporary file.
            let tempStore = try await store.session("read temp_store") { database in
                try await database.raw("PRAGMA temp_store").first()?.decode(column: "temp_store", as: Int.self)
            }
            #expect(tempStore == 2, "temp_store is \(tempStore.map(String.init) ?? "unknown"), not MEMORY (2)")
        }
    }

    @Test("a failing transaction among concurrent ones leaves the others committed", arguments: TestStores.available)
    func failureIsolation(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let taken = StoreConformanceTests.token()
            try await store.recordIssued(taken)
            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<60 {
                    group.addTask {
                        // Every third one inserts a token id that exists: its constraint error must stay its own.
                        let token = index % 3 == 0 ? taken : StoreConformanceTests.token()
                        do {
                            try await store.recordIssued(token)
                            return (index, true)
                        } catch {
                            return (index, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.filter { $0.key % 3 == 0 }.allSatisfy { !$0.value })
            #expect(results.filter { $0.key % 3 != 0 }.allSatisfy { $0.value })
            #expect(try await store.counts().accessTokens == 41)
        }
    }

    @Test("a transaction alone that throws after writing leaves nothing, and the next one commits")
    func failureAlone() async throws {
        try await TestStores.with(.sqlite) { store in
            struct Refused: Error {}
            let first = StoreConformanceTests.token()
            await #expect(throws: StoreError.self) {
                try await store.transaction("write, then refuse") { database in
                    try await Store.insert(first, into: database)
                    throw Refused()
                }
            }
            #expect(try await store.issuedToken(id: first.tokenID) == nil, "the refused transaction's row stayed")
            let second = StoreConformanceTests.token()
            try await store.recordIssued(second)
            #expect(try await store.issuedToken(id: second.tokenID) != nil)
            #expect(try await store.counts().accessTokens == 1)
        }
    }

    @Test("a read does not wait behind a write transaction", arguments: [TestStores.Kind.sqlite])
    func readsBesideWrites(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let kept = StoreConformanceTests.token()
            try await store.recordIssued(kept)
            let release = AsyncStream<Void>.makeStream()
            let writing = Task {
                try await store.transaction("hold the write lock") { database in
                    try await database.raw("INSERT INTO settings (name, value) VALUES ('held', 'x')").run()
                    for await _ in release.stream { break }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            let start = ContinuousClock.now
            #expect(try await store.issuedToken(id: kept.tokenID) != nil)
            #expect(ContinuousClock.now - start < .seconds(2))
            release.continuation.yield()
            try await writing.value
        }
    }
}

/// Figures for docs/grants.md, not a pass/fail test: `LINKGATE_STORE_FIGURES=1 swift test
/// --skip-build --filter StoreFigures` prints exchanges a second on SQLite, one at a time and
/// 64 at once, beside a raw write transaction through sqlite-nio (three thread-pool hops).
@Suite("Store figures", .enabled(if: ProcessInfo.processInfo.environment["LINKGATE_STORE_FIGURES"] == "1"))
struct StoreFigures {
    @Test(arguments: TestStores.available)
    func exchanges(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let sequential = try await Self.rate(count: 2000, concurrency: 1) { index in
                _ = try await store.recordExchange(
                    replayKey: "seq-\(index)", replayExpiresAt: UnixTime.now() + 90,
                    token: StoreConformanceTests.exchanged("seq-\(index)"))
            }
            let concurrent = try await Self.rate(count: 8000, concurrency: 64) { index in
                _ = try await store.recordExchange(
                    replayKey: "par-\(index)", replayExpiresAt: UnixTime.now() + 90,
                    token: StoreConformanceTests.exchanged("par-\(index)"))
            }
            let writes = try await Self.rate(count: 2000, concurrency: 1) { index in
                try await store.transaction("write") { database in
                    try await database.raw(
                        "INSERT INTO settings (name, value) VALUES (\(bind: "raw-\(index)"), 'x')"
                    ).run()
                }
            }
            let reads = try await Self.rate(count: 8000, concurrency: 64) { _ in
                _ = try await store.issuedToken(id: "none")
            }
            print("FIGURE \(kind) store recordExchange sequential: \(sequential) /s")
            print("FIGURE \(kind) store recordExchange 64 concurrent: \(concurrent) /s")
            print("FIGURE \(kind) store one-INSERT transaction sequential: \(writes) /s")
            print("FIGURE \(kind) store issuedToken 64 concurrent: \(reads) /s")
        }
        if kind == .sqlite {
            let raw = try await Self.rawWriteTransactions(count: 2000)
            print("FIGURE raw sqlite-nio write transaction sequential: \(raw) /s")
        }
    }

    static func rate(
        count: Int, concurrency: Int, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Int {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: count, by: concurrency) { try await body(index) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        return Int(Double(count) / (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)))
    }

    static func rawWriteTransactions(count: Int) async throws -> Int {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-raw-\(UUID().uuidString).sqlite"
        ).path
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        let database = connection.sql()
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] {
            try await database.raw(SQLQueryString(pragma)).run()
        }
        try await database.raw("CREATE TABLE rows (id TEXT PRIMARY KEY, at BIGINT NOT NULL)").run()
        let result = try await rate(count: count, concurrency: 1) { index in
            try await database.raw("BEGIN IMMEDIATE").run()
            try await database.raw("INSERT INTO rows (id, at) VALUES (\(bind: "r\(index)"), \(bind: index))").run()
            try await database.raw("COMMIT").run()
        }
        try await connection.close()
        try? FileManager.default.removeItem(atPath: path)
        return result
    }
}
