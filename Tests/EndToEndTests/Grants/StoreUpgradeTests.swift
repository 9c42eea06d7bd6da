import Foundation
import JWT
import Testing

@testable import Grants

/// A store an older linkgate left, opened by this one: the 3LO grants it holds carry on
/// through the real binary (docs/grants.md, "Refresh tokens").
@Suite("Upgrading an SQLite store: 3LO grants of schema 7 carry on")
struct StoreUpgradeTests {
    static let family = "legacy-family"
    static let clientID = ThreeLegged.clientID

    /// A schema-7 store at `path` with one 3LO family: its token retired an hour ago, its live
    /// token, and a 3LO access token of another grant that has no family row (no offline_access).
    static func olderStore(at path: String) async throws {
        let store = try await Store.open(.sqlite(path: path), schemaThrough: 7)
        let now = UnixTime.now()
        try await store.transaction("an older gateway's 3LO rows") { database in
            try await database.raw(
                """
                INSERT INTO refresh_families (family_id, app_key, client_id, account_id, scope, created_at, last_used_at)
                VALUES (\(bind: family), \(bind: GatewayFixture.automationKey), \(bind: clientID), \(bind: ExampleSite.alice),
                        'read:jira-work offline_access', \(bind: now - 7200), \(bind: now - 3600))
                """
            ).run()
            for (token, rotatedAt) in [("legacy-retired", now - 3600), ("legacy-live", nil)] as [(String, Int64?)] {
                try await database.raw(
                    """
                    INSERT INTO refresh_tokens (token_hash, family_id, issued_at, rotated_at)
                    VALUES (\(bind: SecretDigest.hex(token)), \(bind: family), \(bind: now - 7200), \(bind: rotatedAt))
                    """
                ).run()
            }
            try await database.raw(
                """
                INSERT INTO access_tokens (token_id, app_key, account_id, client_id, grant_type, scope, issued_at,
                                           expires_at, family_id)
                VALUES ('online-3lo', \(bind: GatewayFixture.automationKey), \(bind: ExampleSite.alice), \(bind: clientID),
                        'authorization-code', 'read:jira-work', \(bind: now), \(bind: now + 3600), 'online-family')
                """
            ).run()
        }
        await store.close()
    }

    @Test("the live refresh token of schema 7 rotates into one naming its family; the retired one revokes it")
    func refreshAfterUpgrade() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-upgrade-\(UUID().uuidString).sqlite"
        ).path
        try await Self.olderStore(at: path)
        let fixture = try await GatewayFixture(store: "sqlite:" + path)

        let rotated = try await fixture.refresh("legacy-live")
        #expect(rotated.status == 200, "\(rotated.body)")
        let next = try #require(rotated.json["refresh_token"] as? String)
        #expect(next.hasPrefix(Self.family + "."), "\(next.prefix(20))")
        let again = try await fixture.refresh(next)
        #expect(again.status == 200, "\(again.body)")
        let latest = try #require(again.json["refresh_token"] as? String)

        // The token retired under schema 7 is a reuse: the family ends, its newest token with it.
        let reused = try await fixture.refresh("legacy-retired")
        #expect(reused.status == 400)
        #expect(reused.json["error"] as? String == "invalid_grant")
        #expect(try await fixture.refresh(latest).json["error"] as? String == "invalid_grant")

        // The grant without a family row got one: revoking alice reaches its access token.
        let revoked = try await LinkgateProcess.runAsync(
            ["revoke", "--user", ExampleSite.alice, "--policies", fixture.folder.path, "--store", "sqlite:" + path])
        #expect(revoked.status == 0, "\(revoked.standardError)")
        let store = try await Store.open(.sqlite(path: path))
        #expect(try await store.isRevoked(tokenID: "online-3lo"))
        await store.close()
    }
}
