import AsyncHTTPClient
import Foundation
import Grants
import JWT
import NIOCore
import Testing

/// Single-use assertions under concurrency through the real binary (docs/grants.md,
/// "Transactions"): replays that share a group commit, or race across two gateways on
/// one PostgreSQL, are refused one by one while every other exchange of the burst commits.
@Suite("Concurrent JWT bearer exchanges with replays")
struct ConcurrentExchangeTests {
    static let target = "/rest/api/3/project/PROJ"
    /// Distinct assertions; `replayed` of them are sent twice, so `distinct + replayed` requests in all.
    static let distinct = 180
    static let replayed = 20

    /// One request of the burst: which assertion, and which gateway (an index into the ports).
    struct Shot: Sendable {
        let assertion: Int
        let gateway: Int
    }

    /// What came back for one request.
    struct Outcome: Sendable {
        let shot: Shot
        let status: Int
        let error: String?
        let description: String?
        let token: String?
    }

    /// The burst's 180 tokens are then proxied all at once, each on a new upstream
    /// connection: with every suite running on two cores, the example policy's 1 s
    /// connect timeout was seen to pass (504s). This test is about the tokens, not
    /// the timeout, so its upstream gets 10 s.
    static func patientUpstream(_ folder: URL) throws {
        try GatewayFixture.editJSON(folder.appendingPathComponent("routes.json")) { routes in
            var upstreams = routes["upstreams"] as! [String: Any]
            var jira = upstreams["jira"] as! [String: Any]
            jira["connectTimeoutMs"] = 10_000
            upstreams["jira"] = jira
            routes["upstreams"] = upstreams
        }
    }

    @Test("200 concurrent exchanges with 20 replayed assertions on one gateway (SQLite): 180 tokens, 20 invalid_grant")
    func oneGateway() async throws {
        let fixture = try await GatewayFixture(.sqlite, edit: Self.patientUpstream)
        try await Self.burst(fixture, ports: [fixture.port])
    }

    @Test(
        "200 concurrent exchanges with 20 replays across two gateways sharing PostgreSQL: 180 tokens, 20 invalid_grant",
        .enabled(if: StoreKind.available.contains(.postgres), "needs the test PostgreSQL cluster (make test)"))
    func twoGatewaysOnPostgres() async throws {
        let fixture = try await GatewayFixture(.postgres, edit: Self.patientUpstream)
        let (second, secondPort) = try await fixture.secondGateway()
        defer { second.stop() }
        try await Self.burst(fixture, ports: [fixture.port, secondPort])
    }

    /// Sends the burst at once (one connection a request), checks the answers, then uses every
    /// token once through the proxy (of the other gateway, when there are two) and counts the rows.
    static func burst(_ fixture: GatewayFixture, ports: [Int]) async throws {
        let assertions = try (0..<distinct).map { _ in try fixture.assertion() }
        // Assertion i goes to gateway i % n; its replay, when it has one, to the next gateway.
        // Replayed: every ninth assertion, so half of them start on each gateway.
        let replays = Set(stride(from: 0, to: distinct, by: distinct / replayed).prefix(replayed))
        var shots = (0..<distinct).map { Shot(assertion: $0, gateway: $0 % ports.count) }
        shots += replays.sorted().map { Shot(assertion: $0, gateway: ($0 + 1) % ports.count) }
        shots.shuffle()
        #expect(shots.count == 200)

        // Each request on a connection of its own, so all 200 are in flight together.
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = shots.count
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await check(
                fixture, ports: ports, client: client, assertions: assertions, shots: shots, replays: replays)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The burst on `client`, and what must hold of its answers, its tokens and the store.
    static func check(
        _ fixture: GatewayFixture, ports: [Int], client: HTTPClient, assertions: [String], shots: [Shot],
        replays: Set<Int>
    ) async throws {
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for shot in shots {
                group.addTask {
                    let body =
                        "grant_type=\(GatewayFixture.formEncoded(GatewayFixture.jwtBearer))"
                        + "&assertion=\(assertions[shot.assertion])"
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(ports[shot.gateway])/oauth2/token")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                    request.body = .bytes(ByteBuffer(string: body))
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let bytes = try await response.body.collect(upTo: 1 << 20)
                    let json =
                        (try? JSONSerialization.jsonObject(with: Data(String(buffer: bytes).utf8))) as? [String: Any]
                        ?? [:]
                    return Outcome(
                        shot: shot, status: Int(response.status.code), error: json["error"] as? String,
                        description: json["error_description"] as? String, token: json["access_token"] as? String)
                }
            }
            return try await group.reduce(into: [Outcome]()) { $0.append($1) }
        }

        let granted = outcomes.filter { $0.status == 200 }
        let refused = outcomes.filter { $0.status == 400 && $0.error == "invalid_grant" }
        let others = outcomes.filter { $0.status != 200 && !($0.status == 400 && $0.error == "invalid_grant") }
        #expect(granted.count == distinct, "\(granted.count) tokens")
        #expect(refused.count == replayed, "\(refused.count) invalid_grant")
        #expect(others.isEmpty, "unexpected answers: \(others.map { "\($0.status) \($0.error ?? "")" })")
        for outcome in refused {
            #expect(outcome.description?.contains("already been used") == true, "\(outcome.description ?? "")")
            #expect(replays.contains(outcome.shot.assertion), "assertion \(outcome.shot.assertion) was sent once")
        }
        // Exactly one token per assertion, replayed or not.
        let perAssertion = Dictionary(grouping: granted, by: \.shot.assertion)
        #expect(perAssertion.count == distinct && perAssertion.values.allSatisfy { $0.count == 1 })
        if ports.count > 1 {
            #expect(Set(granted.map(\.shot.gateway)).count == ports.count, "one gateway issued every token")
        }
        let tokens = granted.compactMap { outcome in outcome.token.map { (outcome.shot.gateway, $0) } }
        let ids = Set(try tokens.map { try #require(try UnverifiedJWT(decoding: $0.1).claims["jti"]?.stringValue) })
        #expect(ids.count == distinct, "token ids are not distinct")

        // Every token answered 200 verifies and proxies as the user, on the other gateway when there is one.
        let proxied = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (gateway, token) in tokens {
                group.addTask {
                    var request = HTTPClientRequest(
                        url: "http://127.0.0.1:\(ports[(gateway + 1) % ports.count])\(Self.target)")
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let bytes = try await response.body.collect(upTo: 1 << 20)
                    return (Int(response.status.code), String(buffer: bytes))
                }
            }
            return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
        }
        let failed = proxied.filter { $0.0 != 200 }
        #expect(failed.isEmpty, "\(failed.count) of \(proxied.count) tokens refused: \(failed.prefix(3))")

        // The store holds one token row and one replay row per token, and nothing for the replays.
        let store = try await Store.open(try SharedStoreEndToEndTests().storeLocation(fixture))
        let counts = try await store.counts()
        await store.close()
        #expect(counts.accessTokens == distinct && counts.spentAssertions == distinct, "\(counts)")
        #expect(counts.orphanReplays == 0)
    }
}
