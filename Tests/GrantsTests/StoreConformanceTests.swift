import Foundation
import JWT
import Testing

@testable import Grants

/// The same behaviour from the store on SQLite and on PostgreSQL.
@Suite("Store conformance (SQLite and PostgreSQL)")
struct StoreConformanceTests {
    static func token(
        id: String = SecureRandom.identifier(), app: String = "com.example.automation",
        user: String = "alice", expiresIn: Int64 = 900
    ) -> AccessToken {
        let now = UnixTime.now()
        return AccessToken(
            tokenID: id, issuer: "http://127.0.0.1:8080", audience: "http://127.0.0.1:8080", subject: user,
            clientID: "automation-2loi-client", appKey: app, grant: .jwtBearer, scopes: ["READ", "WRITE"],
            issuedAt: now, expiresAt: now + expiresIn)
    }

    @Test("migrations run once: opening again finds the schema current", arguments: TestStores.available)
    func migrationsAreIdempotent(kind: TestStores.Kind) async throws {
        let location = try TestStores.fresh(kind)
        let first = try await Store.open(location)
        try await first.recordIssued(Self.token(id: "kept"))
        await first.close()
        let second = try await Store.open(location)
        #expect(try await second.issuedToken(id: "kept")?.accountId == "alice")
        try await second.ping()
        await second.close()
    }

    /// The token an assertion with `replayKey` is exchanged for (its `jti` derived from the key).
    static func exchanged(_ replayKey: String, scopes: [String] = ["READ", "WRITE"]) -> AccessToken {
        let now = UnixTime.now()
        return AccessToken(
            tokenID: AccessToken.exchangedTokenID(replayKey: replayKey), issuer: "http://127.0.0.1:8080",
            audience: "http://127.0.0.1:8080", subject: "alice", clientID: "automation-2loi-client",
            appKey: "com.example.automation", grant: .jwtBearer, scopes: scopes, issuedAt: now, expiresAt: now + 900)
    }

    @Test("an assertion is spent once: the second exchange writes nothing", arguments: TestStores.available)
    func replayIsRefused(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let first = Self.exchanged("jti:a:1", scopes: ["READ"])
            #expect(
                try await store.recordExchange(replayKey: "jti:a:1", replayExpiresAt: UnixTime.now() + 90, token: first)
            )
            let second = Self.exchanged("jti:a:1", scopes: ["WRITE"])
            #expect(
                try await store.recordExchange(
                    replayKey: "jti:a:1", replayExpiresAt: UnixTime.now() + 90, token: second) == false)
            #expect(try await store.issuedToken(id: first.tokenID)?.scopes == ["READ"])
            let counts = try await store.counts()
            #expect(counts.accessTokens == 1 && counts.spentAssertions == 1 && counts.orphanReplays == 0)
        }
    }

    @Test("an exchanged token whose jti is not derived from its replay key is refused", arguments: TestStores.available)
    func exchangedTokenIDIsChecked(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let refusal = await #expect(throws: StoreError.self) {
                try await store.recordExchange(
                    replayKey: "jti:a:2", replayExpiresAt: UnixTime.now() + 90, token: Self.token())
            }
            #expect(refusal?.code == .query)
            let recorded = try await store.counts().accessTokens
            #expect(recorded == 0)
        }
    }

    @Test(
        "a replay row written before schema 7 still spends its assertion", arguments: TestStores.available)
    func legacyReplayRowRefuses(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await store.transaction("an older gateway's replay row") { database in
                try await database.raw(
                    """
                    INSERT INTO assertion_replays (replay_key, token_id, expires_at)
                    VALUES ('jti:a:old', 'random-old-jti', \(bind: UnixTime.now() + 90))
                    """
                ).run()
            }
            #expect(
                try await store.recordExchange(
                    replayKey: "jti:a:old", replayExpiresAt: UnixTime.now() + 90, token: Self.exchanged("jti:a:old"))
                    == false)
            #expect(try await store.counts().accessTokens == 0)
        }
    }

    @Test("of 40 racing exchanges with one assertion exactly one wins", arguments: TestStores.available)
    func racingExchanges(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await store.recordExchange(
                            replayKey: "sha256:race", replayExpiresAt: UnixTime.now() + 90,
                            token: Self.exchanged("sha256:race"))
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await store.counts().accessTokens == 1)
        }
    }

    @Test("revocations by token, app and user are found by time and by id", arguments: TestStores.available)
    func revocations(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let before = UnixMilliseconds.now() - 1
            let a = Self.token(app: "app.a", user: "alice")
            let b = Self.token(app: "app.b", user: "bob")
            let c = Self.token(app: "app.b", user: "alice")
            let expired = Self.token(app: "app.b", expiresIn: -10)
            for token in [a, b, c, expired] { try await store.recordIssued(token) }
            #expect(try await store.revokeToken(id: a.tokenID, expiresAt: a.expiresAt, reason: "test"))
            #expect(try await store.revokeToken(id: a.tokenID, expiresAt: a.expiresAt, reason: "test") == false)
            #expect(try await store.revokeTokens(ofApp: "app.b") == 2)  // b and c; the expired one is left alone
            #expect(try await store.revokeTokens(ofUser: "alice") == 0)  // a and c are revoked already
            let seen = Set(try await store.revocations(sinceMilliseconds: before).map(\.tokenID))
            #expect(seen == [a.tokenID, b.tokenID, c.tokenID])
            #expect(try await store.isRevoked(tokenID: c.tokenID))
            #expect(try await store.isRevoked(tokenID: expired.tokenID) == false)
            #expect(Set(try await store.liveRevocations().map(\.tokenID)) == seen)
            #expect(try await store.revocations(sinceMilliseconds: UnixMilliseconds.now() + 60_000).isEmpty)
        }
    }

    @Test("the signing key is generated once and read back the same", arguments: TestStores.available)
    func signingKey(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let first = try await store.accessTokenKey()
            let second = try await store.accessTokenKey()
            #expect(first.keyID == second.keyID)
            #expect(first.publicKeyPEM() == second.publicKeyPEM())
            #expect(first.algorithm == .es256 && first.canSign)
            await #expect(throws: StoreError.self) { try await store.accessTokenKey(algorithm: .es384) }
        }
    }

    @Test("audit entries come back filtered and in order", arguments: TestStores.available)
    func audit(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let now = UnixMilliseconds.now()
            func entry(_ index: Int, app: String?, user: String?, verdict: AuditEntry.Verdict) -> AuditEntry {
                AuditEntry(
                    at: now - Int64(10 - index) * 1000, requestId: "r\(index)", appKey: app, accountId: user,
                    credential: "jwt", route: "/rest/{x}", method: "GET", verdict: verdict,
                    reason: verdict == .allow ? "allowed" : "insufficient_scope", status: verdict == .allow ? 200 : 403)
            }
            try await store.append(
                audit: (0..<10).map {
                    entry(
                        $0, app: $0 % 2 == 0 ? "app.a" : nil, user: "u\($0 % 3)",
                        verdict: $0 % 4 == 0 ? .deny : .allow)
                })
            #expect(try await store.audit(AuditQuery()).map(\.requestId) == (0..<10).map { "r\($0)" })
            #expect(
                try await store.audit(AuditQuery(appKey: "app.a")).map(\.requestId) == ["r0", "r2", "r4", "r6", "r8"])
            #expect(try await store.audit(AuditQuery(accountId: "u1")).map(\.requestId) == ["r1", "r4", "r7"])
            #expect(try await store.audit(AuditQuery(sinceMilliseconds: now - 2500)).map(\.requestId) == ["r8", "r9"])
            #expect(try await store.audit(AuditQuery(limit: 2)).map(\.requestId) == ["r8", "r9"])
            let first = try #require(try await store.audit(AuditQuery(limit: 10)).first)
            #expect(first == entry(0, app: "app.a", user: "u0", verdict: .deny))
        }
    }

    @Test("prune drops only rows long expired, of every app", arguments: TestStores.available)
    func prune(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let apps = ["", "a", "app.b", "app.b.c", "z\u{00E9}"]
            let old = apps.map { Self.token(app: $0, expiresIn: -7200) }
            let recent = apps.map { Self.token(app: $0, expiresIn: -60) }
            let live = apps.map { Self.token(app: $0) }
            for token in old + recent + live { try await store.recordIssued(token) }
            try await store.prune()
            for token in old { #expect(try await store.issuedToken(id: token.tokenID) == nil) }
            for token in recent + live { #expect(try await store.issuedToken(id: token.tokenID) != nil) }
        }
    }

    @Test("schemas 7 and 9: SQLite drops the access-token expiry index and prunes through the app index")
    func accessTokenExpiryIndex() async throws {
        let location = try TestStores.fresh(.sqlite)
        let older = try await Store.open(location, schemaThrough: 6)
        await older.close()
        let store = try await Store.open(location)
        do {
            let indexes = try await store.read("list the indexes") { database in
                try await database.raw(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'access_tokens'"
                ).all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(!indexes.contains("access_tokens_expiry"), "\(indexes)")
            #expect(indexes.contains("access_tokens_app"), "\(indexes)")
            let plan = try await store.read("explain the prune") { database in
                try await database.raw(
                    "EXPLAIN QUERY PLAN DELETE FROM access_tokens WHERE app_key = 'a' AND family_id IS NULL AND expires_at < 1"
                ).all().map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(plan.contains { $0.contains("access_tokens_app") }, "\(plan)")
            let seek = try await store.read("explain the next app") { database in
                try await database.raw(
                    "EXPLAIN QUERY PLAN SELECT MIN(app_key) AS app_key FROM access_tokens WHERE family_id IS NULL AND app_key > 'a'"
                ).all().map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(seek.contains { $0.contains("SEARCH") && $0.contains("access_tokens_app") }, "\(seek)")
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}

@Suite("Store locations")
struct StoreLocationTests {
    @Test func parsing() throws {
        #expect(try StoreLocation(parsing: "sqlite:var/x.sqlite") == .sqlite(path: "var/x.sqlite"))
        #expect(try StoreLocation(parsing: "postgres://u:p@h:5432/d") == .postgres(url: "postgres://u:p@h:5432/d"))
        #expect(throws: StoreError.self) { try StoreLocation(parsing: "mysql://x") }
        #expect(throws: StoreError.self) { try StoreLocation(parsing: "sqlite:") }
        #expect(StoreLocation.sqlite(path: "var/x").resolved(against: "/p") == .sqlite(path: "/p/var/x"))
        #expect(StoreLocation.sqlite(path: "/abs").resolved(against: "/p") == .sqlite(path: "/abs"))
    }

    @Test("a PostgreSQL URL is shown without its password")
    func description() {
        #expect(
            StoreLocation.postgres(url: "postgres://lg:s3cret@db:5432/site").description
                == "postgres://lg:***@db:5432/site")
        #expect(!StoreLocation.postgres(url: "postgres://lg:s3cret@db/site").description.contains("s3cret"))
    }
}
