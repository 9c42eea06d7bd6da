import Policy
import Scopes
import Testing

@testable import Gateway

@Suite("The policy snapshot: what it derives from the policy once")
struct PolicySnapshotTests {
    @Test(
        "each route's upstream, found by the route's index, is the one its name gives; its path text is the template's")
    func upstreamOfEachRoute() async throws {
        let snapshot = try await RequestPathHarness().plane.live.snapshot
        let rules = snapshot.policy.decision.routes.rules
        #expect(rules.count > 1)
        for rule in rules {
            let byName = try #require(snapshot.upstreams[rule.upstream])
            #expect(snapshot.upstream(of: rule) === byName)
            #expect(rule.pathText == rule.path.description)
        }
    }

    @Test("a kept snapshot is read without the lock until a replacement, then the new one is kept")
    func keptSnapshot() async throws {
        let live = try await RequestPathHarness().plane.live
        var kept: KeptSnapshot?
        let first = live.snapshot(through: &kept)
        #expect(first === live.snapshot && kept?.snapshot === first)
        #expect(live.snapshot(through: &kept) === first)
        let next = try first.next(first.policy)
        live.replace(with: next)
        #expect(live.snapshot(through: &kept) === next && kept?.snapshot === next)
        #expect(live.snapshot(through: &kept) === next)
    }
}
