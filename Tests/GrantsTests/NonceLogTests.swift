import Foundation
import JWT
import SQLKit
import Testing

@testable import Grants

/// SQLite's OAuth 1.0a nonce log (docs/links.md, "Nonces"): new nonces appended in
/// arrival order and merged into `oauth1_nonces` now and then; two gateways on one file
/// (two `Store`s) still accept each nonce once, before a merge, after it and after a restart.
@Suite("SQLite's nonce log: a nonce is spent once among the gateways sharing the file")
struct NonceLogTests {
    static func key(_ name: String) -> String { "c\u{0}t\u{0}1\u{0}\(name)" }

    /// Two stores on one fresh SQLite file, as two gateways sharing it.
    static func withTwo(_ body: (Store, Store, StoreLocation) async throws -> Void) async throws {
        let location = try TestStores.fresh(.sqlite)
        let first = try await Store.open(location)
        let second = try await Store.open(location)
        do {
            try await body(first, second, location)
        } catch {
            await first.close()
            await second.close()
            throw error
        }
        await first.close()
        await second.close()
    }

    static func logRows(_ store: Store) async throws -> Int {
        try await store.read("count the log") { database in
            try await database.raw("SELECT COUNT(*) AS count FROM oauth1_nonce_log").first()?
                .decode(column: "count", as: Int.self) ?? -1
        }
    }

    @Test("a nonce logged by one gateway is refused by the other, before and after the log is merged")
    func acrossGateways() async throws {
        try await Self.withTwo { first, second, location in
            let expiresAt = UnixTime.now() + 600
            #expect(try await first.recordNonce(Self.key("a"), expiresAt: expiresAt))
            #expect(try await Self.logRows(first) == 1)
            #expect(try await second.recordNonce(Self.key("a"), expiresAt: expiresAt) == false)
            #expect(try await first.recordNonce(Self.key("a"), expiresAt: expiresAt) == false)

            // A log of the merge size stays a log while its second lasts ...
            let many = (0..<Int(Store.nonceLogMerge)).map { (NonceDigest(key: Self.key("m\($0)")), expiresAt) }
            let recorded = try await second.recordNonceDigests(many)
            #expect(recorded.count == many.count)
            #expect(try await Self.logRows(first) == many.count + 1)
            // ... and the first nonce of a later second moves it into oauth1_nonces before it is added.
            #expect(try await first.recordNonce(Self.key("b"), expiresAt: expiresAt + 1))
            #expect(try await Self.logRows(first) == 1)
            let merged = try await first.read("count the merged") { database in
                try await database.raw("SELECT COUNT(*) AS count FROM oauth1_nonces").first()?
                    .decode(column: "count", as: Int.self) ?? -1
            }
            #expect(merged == many.count + 1)
            // Refused by both, from oauth1_nonces now: "a" (which the first gateway knew from its
            // log) and nonces of the merged batch (which it never read from the log).
            #expect(try await first.recordNonce(Self.key("a"), expiresAt: expiresAt) == false)
            #expect(try await first.recordNonce(Self.key("m7"), expiresAt: expiresAt) == false)
            #expect(try await second.recordNonce(Self.key("m4000"), expiresAt: expiresAt) == false)
            #expect(try await second.recordNonce(Self.key("b"), expiresAt: expiresAt + 1) == false)
            #expect(try await second.recordNonce(Self.key("d"), expiresAt: expiresAt + 1))
            #expect(try await first.recordNonce(Self.key("d"), expiresAt: expiresAt + 1) == false)

            // A gateway started later reads the whole log, and finds the merged ones by their key.
            let third = try await Store.open(location)
            do {
                #expect(try await third.recordNonce(Self.key("b"), expiresAt: expiresAt + 1) == false)
                #expect(try await third.recordNonce(Self.key("m1"), expiresAt: expiresAt) == false)
                #expect(try await third.recordNonce(Self.key("c"), expiresAt: expiresAt))
            } catch {
                await third.close()
                throw error
            }
            await third.close()
        }
    }

    @Test("200 concurrent spends on two gateways sharing the file, 40 of them replays, a merge among them: 160 pass")
    func concurrentAcrossStores() async throws {
        try await Self.withTwo { first, second, _ in
            let expiresAt = UnixTime.now() + 600
            // Bring the log to the merge size: the race, a second later, merges it first.
            let filler = (0..<Int(Store.nonceLogMerge)).map { (NonceDigest(key: Self.key("f\($0)")), expiresAt) }
            _ = try await first.recordNonceDigests(filler)
            let stores = [first, second]
            let keys = (0..<160).map { Self.key("n\($0)") }
            let sends =
                keys.enumerated().map { ($0.element, $0.offset % 2) }
                + keys.prefix(40).enumerated().map { ($0.element, 1 - $0.offset % 2) }
            let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (key, store) in sends.shuffled() {
                    group.addTask { try await stores[store].recordNonce(key, expiresAt: expiresAt + 1) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(passed == 160)
            #expect(try await Self.logRows(first) < Int(Store.nonceLogMerge), "the log was merged")
            for key in keys.shuffled().prefix(20) {
                #expect(try await stores.randomElement()!.recordNonce(key, expiresAt: expiresAt + 1) == false)
            }
        }
    }

    @Test("a batch that fails leaves no nonce behind, in the log or in the gateway's view")
    func failedBatch() async throws {
        try await TestStores.with(.sqlite) { (store: Store) async throws in
            let expiresAt = UnixTime.now() + 600
            let digest = NonceDigest(key: Self.key("rolled back"))
            let view = store.nonceLog
            var failed = false
            do {
                try await store.transaction("log, then fail") { (database: any SQLDatabase) async throws -> Void in
                    _ = try Store.recordInLog([(digest, expiresAt)], view: view, on: try SQLiteHandle.of(database))
                    throw SQLiteFailure(code: 1, message: "a later statement of the batch failed")
                }
            } catch {
                failed = true
            }
            #expect(failed)
            #expect(try await Self.logRows(store) == 0)
            #expect(try await store.recordNonceDigests([(digest, expiresAt)]) == [digest])
        }
    }

    @Test("the view drops what the log no longer holds, and what the prune forgets")
    func view() {
        let view = NonceLogView()
        let (a, b, c) = (NonceDigest(key: "a"), NonceDigest(key: "b"), NonceDigest(key: "c"))
        view.apply([(3, a, 100), (4, b, 200)], floor: 3, through: 4)
        #expect(view.lastSequence == 4)
        #expect(view.spent(among: [a, b, c]) == [a, b])
        // Merged through 4 by another gateway: the log starts at 5 now.
        view.apply([(5, c, 300)], floor: 5, through: 5)
        #expect(view.spent(among: [a, b, c]) == [c])
        // A late answer of an older transaction neither lowers the sequence nor brings back merged rows.
        view.apply([(4, b, 200)], floor: 5, through: 4)
        #expect(view.lastSequence == 5)
        #expect(view.spent(among: [a, b, c]) == [c])
        view.forget(expiredBefore: 301)
        #expect(view.spent(among: [c]).isEmpty)
    }

    @Test("the schema keeps the log in arrival order and reads past a number with one seek")
    func schema() async throws {
        try await TestStores.with(.sqlite) { (store: Store) async throws in
            let plan = try await store.read("explain the tail") { database in
                try await database.raw("EXPLAIN QUERY PLAN SELECT seq, nonce_key FROM oauth1_nonce_log WHERE seq > 7")
                    .all().map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(plan.contains { $0.contains("INTEGER PRIMARY KEY") }, "\(plan)")
            let lookup = try await store.read("explain the lookup") { database in
                try await database.raw(
                    "EXPLAIN QUERY PLAN SELECT 1 FROM oauth1_nonces WHERE expires_at = 1 AND nonce_key = 'x'"
                ).all().map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(lookup.contains { $0.contains("PRIMARY KEY") }, "\(lookup)")
            // Each transaction reads the log's bounds and the newest merged expiry: seeks, no scan.
            for query in [Store.logBoundsQuery, "SELECT MAX(expires_at) FROM oauth1_nonces"] {
                let steps = try await store.read("explain a bound") { database in
                    try await database.raw(SQLQueryString("EXPLAIN QUERY PLAN " + query)).all()
                        .map { try $0.decode(column: "detail", as: String.self) }
                }
                #expect(!steps.contains { $0.hasPrefix("SCAN") && !$0.contains("CONSTANT ROW") }, "\(steps)")
            }
        }
    }
}
