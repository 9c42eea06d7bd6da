import Foundation
import Grants
import JWT
import Testing

/// What came back to the requests a load sent, by kind, from several tasks.
final class OutageTally: @unchecked Sendable {
    struct Answer {
        let status: Int
        let body: String
        /// From the request to the end of the answer.
        let seconds: Double
    }

    private let lock = NSLock()
    private var answers: [String: [Answer]] = [:]
    private var tokens: [String] = []
    private var stopped = false

    func add(_ kind: String, _ status: Int, _ body: String, since started: Date) {
        let answer = Answer(status: status, body: body, seconds: Date().timeIntervalSince(started))
        lock.withLock { answers[kind, default: []].append(answer) }
    }

    func issued(_ token: String) { lock.withLock { tokens.append(token) } }

    func stop() { lock.withLock { stopped = true } }

    var isStopped: Bool { lock.withLock { stopped } }
    var allTokens: [String] { lock.withLock { tokens } }
    func answers(_ kind: String) -> [Answer] { lock.withLock { answers[kind] ?? [] } }
}

extension Faults {
    /// The PostgreSQL store stopped (SIGQUIT, as `pg_ctl stop -m immediate`: a
    /// crash) and started again while requests keep coming. Meanwhile the token endpoint answers 503
    /// `temporarily_unavailable` (docs/grants.md, "The JWT bearer grant"), Connect JWT and
    /// Bearer requests are still forwarded (they need no store, docs/gateway.md §3), and
    /// `/readyz` says 503; afterwards the same gateway issues tokens again, and every token
    /// it handed out before has its rows.
    @Suite("The PostgreSQL store stopped and started again under load")
    struct StoreOutageTests {
        static let proxied = "/bulk/outage"

        @Test(
            "token endpoint 503 while PostgreSQL is down, proxying goes on, recovery without a restart, nothing issued lost",
            .enabled(if: PrivateCluster.isAvailable, "needs PostgreSQL's server binaries (make test installs them)"))
        func postgresStoppedAndRestarted() async throws {
            let cluster = try await PrivateCluster.start()
            let fixture = try await GatewayFixture(store: cluster.url)
            var before: [String] = []
            for _ in 0..<3 { before.append(try await fixture.accessToken()) }

            let tally = OutageTally()
            let load = Task { await Self.load(fixture, tally: tally) }
            defer {
                tally.stop()
                load.cancel()
            }
            let flowing = try await fixture.eventually(within: 20) { tally.allTokens.count >= 5 }
            try #require(flowing, "the load issued no tokens: \(tally.answers("exchange").suffix(3).map(\.body))")

            try await cluster.stopServer(immediate: true)
            let started = Date()
            let refused = try await fixture.exchange(try fixture.assertion())
            let waited = Date().timeIntervalSince(started)
            #expect(refused.status == 503, "\(refused.status) \(refused.body)")
            #expect(refused.json["error"] as? String == "temporarily_unavailable", "\(refused.body)")
            #expect((refused.json["error_description"] as? String)?.contains("store") == true, "\(refused.body)")
            #expect(refused.headers["Cache-Control"].first == "no-store")
            #expect(waited < 12, "the 503 took \(waited) s")
            for _ in 0..<5 {
                let proxied = try await fixture.sendSigned(.GET, Self.proxied)
                #expect(proxied.status == 200, "a Connect JWT request while the store is down: \(proxied.body)")
            }
            let bearer = try await fixture.sendBearer(.GET, Self.proxied, token: before[0])
            #expect(bearer.status == 200, "a Bearer token issued before, while the store is down: \(bearer.body)")
            #expect(try await fixture.admin("/readyz").status == 503)

            try await cluster.startServer()
            let recovered = try await fixture.eventually(within: 30) {
                try await fixture.exchange(try fixture.assertion()).status == 200
            }
            #expect(recovered, "the token endpoint still refused 30 s after PostgreSQL came back")
            let after = try await fixture.accessToken()
            #expect(try await fixture.admin("/readyz").status == 200)
            tally.stop()
            await load.value

            // Under load, the token endpoint only ever issued or said 503, and proxying never failed.
            let exchanges = tally.answers("exchange")
            let odd = exchanges.filter { $0.status != 200 && $0.status != 503 }
            #expect(odd.isEmpty, "exchanges answered otherwise: \(odd.prefix(3).map { "\($0.status) \($0.body)" })")
            #expect(exchanges.contains { $0.status == 503 }, "the load saw the outage")
            // The exchanges in flight at the crash too: answered, not left waiting (the pool's
            // connection requests give up after 10 s, anything longer is a hang).
            let slowest = exchanges.map(\.seconds).max() ?? 0
            #expect(slowest < 12, "an exchange took \(slowest) s")
            let proxiedAnswers = tally.answers("connect")
            #expect(!proxiedAnswers.isEmpty)
            let failed = proxiedAnswers.filter { $0.status != 200 }
            #expect(
                failed.isEmpty, "Connect JWT requests failed: \(failed.prefix(3).map { "\($0.status) \($0.body)" })")

            // Nothing handed out is lost: each token works, and has its row; no replay row without its token.
            let handedOut = before + tally.allTokens + [after]
            let store = try await Store.open(try StoreLocation(parsing: cluster.url))
            for token in handedOut {
                let id = try #require(try UnverifiedJWT(decoding: token).claims["jti"]?.stringValue)
                #expect(try await store.issuedToken(id: id) != nil, "the token \(id) was handed out but has no row")
            }
            let counts = try await store.counts()
            #expect(counts.orphanReplays == 0)
            #expect(counts.accessTokens == counts.spentAssertions)
            await store.close()
            for token in handedOut.prefix(20) {
                let reply = try await fixture.sendBearer(.GET, Self.proxied, token: token)
                #expect(reply.status == 200, "a token handed out before or during the outage: \(reply.body)")
            }
        }

        /// Token exchanges at once: enough that some are between two statements of their
        /// transaction when the server goes, the moment that once left them waiting for ever.
        static let exchangers = 6

        /// Token exchanges (`exchangers` at a time, a little slower while refused) and Connect
        /// JWT requests until stopped, each answer tallied.
        static func load(_ fixture: GatewayFixture, tally: OutageTally) async {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<Self.exchangers {
                    group.addTask {
                        while !tally.isStopped, !Task.isCancelled {
                            let started = Date()
                            var pause = 50
                            do {
                                let reply = try await fixture.exchange(try fixture.assertion())
                                tally.add("exchange", reply.status, reply.body, since: started)
                                if reply.status == 200, let token = reply.json["access_token"] as? String {
                                    tally.issued(token)
                                    pause = 5
                                }
                            } catch {
                                tally.add("exchange", -1, "\(error)", since: started)
                            }
                            try? await Task.sleep(for: .milliseconds(pause))
                        }
                    }
                }
                group.addTask {
                    while !tally.isStopped, !Task.isCancelled {
                        let started = Date()
                        do {
                            let reply = try await fixture.sendSigned(.GET, Self.proxied)
                            tally.add("connect", reply.status, reply.body, since: started)
                        } catch {
                            tally.add("connect", -1, "\(error)", since: started)
                        }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }
    }
}
