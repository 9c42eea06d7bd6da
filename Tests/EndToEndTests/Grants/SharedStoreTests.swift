import Foundation
import Grants
import JWT
import Testing

/// Several gateways on one PostgreSQL, and crashes: what docs/gateway.md §8 promises.
@Suite("Grants across gateways and crashes")
struct SharedStoreEndToEndTests {
    static let target = "/rest/api/3/project/PROJ"

    @Test(
        "two gateways on one PostgreSQL: one key, one replay table, revocation within 2 s",
        .enabled(if: StoreKind.available.contains(.postgres), "needs the test PostgreSQL cluster (make test)"))
    func twoGateways() async throws {
        let fixture = try await GatewayFixture(.postgres)
        let (second, secondPort) = try await fixture.secondGateway()
        defer { second.stop() }
        let token = try await fixture.accessToken()
        #expect(try await fixture.sendBearer(.GET, Self.target, token: token, port: secondPort).status == 200)
        let jwks = try await fixture.send(.GET, "/.well-known/jwks.json").body
        #expect(try await fixture.send(.GET, "/.well-known/jwks.json", port: secondPort).body == jwks)

        // One assertion sent to both gateways at once: exactly one token.
        let assertion = try fixture.assertion()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask { try await fixture.exchange(assertion, port: index % 2 == 0 ? nil : secondPort).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")

        // Revoked on the first gateway, refused by the second within 2 s.
        let revoke = try await fixture.post(
            "/oauth2/revoke", fields: [("token", token)],
            headers: [GatewayFixture.basic("automation-2loi-client", GatewayFixture.automationSecret)])
        #expect(revoke.status == 200)
        let started = Date()
        let refused = try await fixture.eventually(within: 2) {
            try await fixture.sendBearer(.GET, Self.target, token: token, port: secondPort).status == 401
        }
        #expect(refused, "the second gateway still accepted the token \(Date().timeIntervalSince(started)) s later")
    }

    @Test(
        "SIGKILL during a burst of exchanges: every token handed out stays valid, no half-written rows",
        arguments: StoreKind.available)
    func killedDuringBurst(kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind)
        let issued = TokenBag()
        let burst = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<400 {
                            guard let reply = try? await fixture.exchange(try fixture.assertion()) else { return }
                            if reply.status == 200, let token = reply.json["access_token"] as? String {
                                issued.add(token)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Kill it once tokens are flowing (a loaded CI machine may be slow to get there).
        _ = try await fixture.eventually(within: 30) { issued.count >= 10 }
        fixture.gateway.signal(SIGKILL)
        _ = try await burst.value
        let tokens = issued.all
        #expect(tokens.count >= 10)
        try await fixture.restartGateway()
        for token in tokens {
            let reply = try await fixture.sendBearer(.GET, Self.target, token: token)
            #expect(reply.status == 200, "a token handed out before the kill: \(reply.body)")
        }
        // Every replay row has its token row, and every token handed out has its row.
        let store = try await Store.open(try storeLocation(fixture))
        let counts = try await store.counts()
        #expect(counts.orphanReplays == 0)
        #expect(counts.accessTokens == counts.spentAssertions)
        for token in tokens.prefix(50) {
            let id = try #require(try UnverifiedJWT(decoding: token).claims["jti"]?.stringValue)
            #expect(try await store.issuedToken(id: id) != nil)
        }
        await store.close()
    }

    func storeLocation(_ fixture: GatewayFixture) throws -> StoreLocation {
        if let url = fixture.store { return try StoreLocation(parsing: url) }
        return .sqlite(path: fixture.folder.appendingPathComponent("var/linkgate.sqlite").path)
    }
}

/// Tokens collected by concurrent tasks.
final class TokenBag: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [String] = []

    func add(_ token: String) { lock.withLock { tokens.append(token) } }
    var count: Int { lock.withLock { tokens.count } }
    var all: [String] { lock.withLock { tokens } }
}
