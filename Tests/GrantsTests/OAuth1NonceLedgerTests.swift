import Foundation
import Grants
import JWT
import Testing

/// OAuth 1.0a nonces spent through `OAuth1NonceLedger` (docs/links.md, "Nonces"):
/// batched writes, and still exactly one success per nonce across gateways.
@Suite("OAuth 1.0a nonces: a window per gateway, group-committed to the store")
struct OAuth1NonceLedgerTests {
    @Test("a nonce spent here is refused here without the store; another ledger on the store refuses it too")
    func localAndShared() async throws {
        try await TestStores.with(.sqlite) { (store: Store) async throws in
            let expiresAt = UnixTime.now() + 600
            let first = OAuth1NonceLedger(store: store)
            let second = OAuth1NonceLedger(store: store)
            #expect(try await first.spend("c\u{0}t\u{0}1\u{0}n1", expiresAt: expiresAt))
            #expect(try await first.spend("c\u{0}t\u{0}1\u{0}n1", expiresAt: expiresAt) == false)
            #expect(try await second.spend("c\u{0}t\u{0}1\u{0}n1", expiresAt: expiresAt) == false)
            #expect(try await second.spend("c\u{0}t\u{0}1\u{0}n2", expiresAt: expiresAt))
        }
    }

    @Test(
        "200 concurrent spends on two ledgers sharing a store, 40 of them replays: exactly 160 pass",
        arguments: TestStores.available)
    func concurrentAcrossLedgers(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { (store: Store) async throws in
            let expiresAt = UnixTime.now() + 600
            let ledgers = [OAuth1NonceLedger(store: store), OAuth1NonceLedger(store: store)]
            // Nonces 0..<160, with 40 of them sent a second time, to the other ledger.
            let keys = (0..<160).map { "c\u{0}\u{0}1\u{0}n\($0)" }
            let sends =
                keys.enumerated().map { ($0.element, $0.offset % 2) }
                + keys.prefix(40).enumerated().map { ($0.element, 1 - $0.offset % 2) }
            let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (key, ledger) in sends.shuffled() {
                    group.addTask { try await ledgers[ledger].spend(key, expiresAt: expiresAt) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(passed == 160)
        }
    }

    @Test(
        "two gateways inserting overlapping batches in opposite orders at once never deadlock",
        arguments: TestStores.available)
    func overlappingBatches(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { (store: Store) async throws in
            let expiresAt = UnixTime.now() + 600
            for round in 0..<20 {
                // The same 300 digests, one batch ascending and one descending: inserted in
                // the order given, each would hold a key the other waits for.
                let digests = (0..<300).map { NonceDigest(key: "round \(round) nonce \($0)") }
                let batches = [digests, digests.reversed()].map { $0.map { (digest: $0, expiresAt: expiresAt) } }
                let recorded = try await withThrowingTaskGroup(of: Set<NonceDigest>.self) { group in
                    for batch in batches { group.addTask { try await store.recordNonceDigests(batch) } }
                    return try await group.reduce(into: [Set<NonceDigest>]()) { $0.append($1) }
                }
                #expect(recorded[0].isDisjoint(with: recorded[1]), "a nonce recorded by both")
                #expect(recorded[0].union(recorded[1]).count == 300, "a nonce recorded by neither")
            }
        }
    }

    @Test("with a small window the ledger forgets, and the store still refuses a replay")
    func boundedWindow() async throws {
        try await TestStores.with(.sqlite) { (store: Store) async throws in
            let expiresAt = UnixTime.now() + 600
            let ledger = OAuth1NonceLedger(store: store, capacity: 2)
            for index in 0..<5 { #expect(try await ledger.spend("n\(index)", expiresAt: expiresAt)) }
            for index in 0..<5 { #expect(try await ledger.spend("n\(index)", expiresAt: expiresAt) == false) }
        }
    }
}
