import Foundation
import Grants
import JWT
import Testing

/// Group commit under a crash (docs/grants.md, "Transactions"): exchanges that share a
/// commit are answered only after it, so a SIGKILL loses none that was answered 200.
@Suite("Group-committed exchanges and SIGKILL")
struct GroupCommitCrashTests {
    @Test(
        "SIGKILL during a burst of 32 concurrent exchanges: every token answered 200 is in the store",
        arguments: StoreKind.available)
    func killedDuringWideBurst(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let issued = TokenBag()
        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        for _ in 0..<200 {
                            guard let reply = try? await fixture.exchange(try fixture.assertion()) else { return }
                            if reply.status == 200, let token = reply.json["access_token"] as? String {
                                issued.add(token)
                            }
                        }
                    }
                }
            }
        }
        _ = try await fixture.eventually(within: 30) { issued.count >= 100 }
        fixture.gateway.signal(SIGKILL)
        await burst.value
        let tokens = issued.all
        #expect(tokens.count >= 100)
        try await fixture.restartGateway()
        let store = try await Store.open(try SharedStoreEndToEndTests().storeLocation(fixture))
        var missing = 0
        for token in tokens {
            let id = try #require(try UnverifiedJWT(decoding: token).claims["jti"]?.stringValue)
            if try await store.issuedToken(id: id) == nil { missing += 1 }
        }
        #expect(missing == 0, "\(missing) of \(tokens.count) tokens answered 200 are not in the store")
        let counts = try await store.counts()
        #expect(counts.orphanReplays == 0 && counts.accessTokens == counts.spentAssertions)
        await store.close()
        // And they work after the restart.
        for token in tokens.suffix(20) {
            let reply = try await fixture.sendBearer(.GET, SharedStoreEndToEndTests.target, token: token)
            #expect(reply.status == 200, "a token answered before the kill: \(reply.body)")
        }
    }
}
