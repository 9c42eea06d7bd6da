import Foundation
import JWT
import SQLKit
import Testing

@testable import Grants

/// Codes, refresh families, consents and sessions, the same on SQLite and PostgreSQL.
@Suite("Store conformance: 3LO (SQLite and PostgreSQL)")
struct StoreThreeLeggedTests {
    static func record(family: String = SecureRandom.identifier(), expiresIn: Int64 = 600) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord(
            familyID: family, appKey: "app.a", clientID: "a-3lo", accountId: "alice",
            redirectURI: "https://a/cb", scopes: ["read:jira-work", "offline_access"],
            codeChallenge: nil, expiresAt: UnixTime.now() + expiresIn)
    }

    /// A 3LO access token of `user` for app.a, carrying the grant's tag as the store asks (nil on PostgreSQL).
    static func threeLeggedToken(
        user: String = "alice", tag: String?, expiresIn: Int64 = 900
    ) -> AccessToken {
        let base = StoreConformanceTests.token(app: "app.a", user: user, expiresIn: expiresIn)
        return AccessToken(
            tokenID: base.tokenID, issuer: base.issuer, audience: base.audience, subject: user,
            clientID: "a-3lo", appKey: "app.a", grant: .authorizationCode, scopes: ["read:jira-work"],
            issuedAt: base.issuedAt, expiresAt: base.expiresAt, grantTag: tag)
    }

    static func rows(tag: String?, refresh: String?) -> GrantRows {
        GrantRows(accessToken: threeLeggedToken(tag: tag), refreshTokenHash: refresh.map(SecretDigest.hex))
    }

    /// A 3LO token of `user` for app.a as /token issues it, from a code; with a refresh token when `offline`.
    static func threeLegged(
        _ store: Store, user: String, offline: Bool, expiresIn: Int64 = 900
    ) async throws -> AccessToken {
        let family = SecureRandom.identifier()
        let code = AuthorizationCodeRecord(
            familyID: family, appKey: "app.a", clientID: "a-3lo", accountId: user,
            redirectURI: "https://a/cb", scopes: ["read:jira-work"], codeChallenge: nil,
            expiresAt: UnixTime.now() + 600)
        try await store.insertCode("code-\(family)", code)
        let refresh = offline ? SecretDigest.hex(RefreshToken.make(family: family)) : nil
        let redeemed = try await store.redeemCode(
            "code-\(family)", check: { _ in nil },
            mint: { record in
                GrantRows(
                    accessToken: threeLeggedToken(user: user, tag: record.grantTag, expiresIn: expiresIn),
                    refreshTokenHash: refresh)
            })
        return try #require(redeemed.1?.accessToken)
    }

    /// A 3LO token's row as gateways before schema 10 wrote it on SQLite (and PostgreSQL still does).
    static func threeLeggedRow(_ store: Store, user: String, expiresIn: Int64) async throws -> AccessToken {
        let token = threeLeggedToken(user: user, tag: nil, expiresIn: expiresIn)
        try await store.session("an older gateway's 3LO token") { database in
            try await Store.insert(token, family: SecureRandom.identifier(), into: database)
        }
        return token
    }

    @Test(
        "prune drops 3LO tokens long expired, written before or after other tokens, and keeps the rest",
        arguments: TestStores.available)
    func pruneThreeLegged(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            var old: [AccessToken] = []
            var kept: [AccessToken] = []
            // On SQLite 3LO tokens have rows only when written before schema 10: such rows are pruned.
            func threeLegged(_ user: String, offline: Bool, expiresIn: Int64 = 900) async throws -> AccessToken {
                kind == .sqlite
                    ? try await Self.threeLeggedRow(store, user: user, expiresIn: expiresIn)
                    : try await Self.threeLegged(store, user: user, offline: offline, expiresIn: expiresIn)
            }
            for round in 0..<3 {
                old.append(try await threeLegged("u\(round)", offline: round % 2 == 0, expiresIn: -7200))
                kept.append(try await threeLegged("u\(round)", offline: true, expiresIn: -60))
                let bearer = StoreConformanceTests.token(app: "app.a", user: "u\(round)")
                try await store.recordIssued(bearer)
                kept.append(bearer)
                old.append(try await threeLegged("v\(round)", offline: false, expiresIn: -7200))
                kept.append(try await threeLegged("v\(round)", offline: true))
            }
            try await store.prune()
            for token in old { #expect(try await store.issuedToken(id: token.tokenID) == nil) }
            for token in kept { #expect(try await store.issuedToken(id: token.tokenID) != nil) }
        }
    }

    /// A grant family begun as /token begins one: the code `code` kept, then exchanged for `refresh`.
    /// Its family's id is `f-` and the code, which its refresh tokens name (`RefreshToken`):
    /// `f-<code>.<secret>`.
    static func newFamily(_ store: Store, code: String, refresh: String) async throws {
        try await store.insertCode(code, record(family: "f-\(code)"))
        _ = try await store.redeemCode(code, check: { _ in nil }, mint: { rows(tag: $0.grantTag, refresh: refresh) })
    }

    @Test("a code is spent once; the second use revokes what the first issued", arguments: TestStores.available)
    func codes(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await store.insertCode("code-1", Self.record(family: "f1"))
            let refused = try await store.redeemCode(
                "code-1", check: { _ in OAuthError(.invalidGrant, "no") },
                mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
            guard case .refused = refused.0 else {
                Issue.record("not refused: \(refused.0)")
                return
            }
            let first = try await store.redeemCode(
                "code-1", check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: "f1.r-1") })
            guard case .issued = first.0, let token = first.1?.accessToken else {
                Issue.record("not issued")
                return
            }
            let second = try await store.redeemCode(
                "code-1", check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
            guard case .replayed(let revoked) = second.0 else {
                Issue.record("not a replay: \(second.0)")
                return
            }
            // SQLite revokes the grant's tag, which the token carries; PostgreSQL the token's row.
            let names = kind == .sqlite ? [RevokedCredential.grant(tag: try #require(token.grantTag))] : [token.tokenID]
            #expect(revoked.map(\.tokenID) == names)
            #expect(try await store.isRevoked(token))
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 10)
            let refresh = try await store.rotateRefreshToken(
                "f1.r-1", policy: policy, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: "f1.r-2") })
            guard case .revoked = refresh.0 else {
                Issue.record("the family lives on: \(refresh.0)")
                return
            }
            let unknown = try await store.redeemCode(
                "nope", check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
            guard case .unknown = unknown.0 else {
                Issue.record("\(unknown.0)")
                return
            }
            try await store.insertCode("old", Self.record(expiresIn: -1))
            let expired = try await store.redeemCode(
                "old", check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
            guard case .expired = expired.0 else {
                Issue.record("\(expired.0)")
                return
            }
        }
    }

    @Test(
        "codes refused by their checks while others are issued beside them stay unspent, and redeem later",
        arguments: TestStores.available)
    func refusedBesideIssued(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let codes = (0..<12).map { "together-\($0)" }
            for code in codes { try await store.insertCode(code, Self.record()) }
            // Concurrent redemptions may share commits on SQLite: a refusal rolls back its own mark only.
            let outcomes = try await withThrowingTaskGroup(of: (Int, CodeRedemption).self) { group in
                for (index, code) in codes.enumerated() {
                    group.addTask {
                        let refusal = index.isMultiple(of: 2) ? OAuthError(.invalidGrant, "refused") : nil
                        let outcome = try await store.redeemCode(
                            code, check: { _ in refusal }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
                        return (index, outcome.0)
                    }
                }
                return try await group.reduce(into: [Int: CodeRedemption]()) { $0[$1.0] = $1.1 }
            }
            for (index, outcome) in outcomes {
                switch outcome {
                case .refused: #expect(index.isMultiple(of: 2))
                case .issued: #expect(!index.isMultiple(of: 2))
                default: Issue.record("\(codes[index]): \(outcome)")
                }
            }
            for (index, code) in codes.enumerated() {
                let again = try await store.redeemCode(
                    code, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
                switch again.0 {
                case .issued: #expect(index.isMultiple(of: 2), "\(code) was refused, so it is still unspent")
                case .replayed: #expect(!index.isMultiple(of: 2), "\(code) was issued, so it is spent")
                default: Issue.record("\(code) again: \(again.0)")
                }
            }
        }
    }

    @Test(
        "a code redeemed by 8 racing requests is issued once, with its rows written once",
        arguments: TestStores.available)
    func racingCode(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let record = Self.record(family: "raced")
            try await store.insertCode("raced", record)
            let outcomes = try await withThrowingTaskGroup(of: (CodeRedemption, GrantRows?).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await store.redeemCode(
                            "raced", check: { _ in nil },
                            mint: { Self.rows(tag: $0.grantTag, refresh: "raced.\(index)") })
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let issued = outcomes.compactMap { outcome -> GrantRows? in
                if case .issued = outcome.0 { return outcome.1 }
                return nil
            }
            #expect(issued.count == 1)
            let replays = outcomes.filter { if case .replayed = $0.0 { true } else { false } }
            #expect(replays.count == 7)
            let token = try #require(issued.first?.accessToken)
            if kind == .sqlite {
                // The grant's one row is the family's: it names the issued token's tag and expiry.
                let family = try await store.read("read the family's row") { database in
                    try await database.raw(
                        "SELECT grant_tag, tokens_expire_at FROM refresh_families WHERE family_id = 'raced'"
                    ).all()
                }
                #expect(family.count == 1)
                #expect(try family.first?.decode(column: "grant_tag", as: String.self) == token.grantTag)
                #expect(try family.first?.decode(column: "tokens_expire_at", as: Int64.self) == token.expiresAt)
            } else {
                #expect(try await store.issuedToken(id: token.tokenID)?.accountId == "alice")
            }
            // The one family holds the one refresh token the issued request minted: it rotates.
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 10)
            let hash = try #require(issued.first?.refreshTokenHash)
            let index = try #require((0..<8).first { SecretDigest.hex("raced.\($0)") == hash })
            let rotated = try await store.rotateRefreshToken(
                "raced.\(index)", policy: policy, check: { _ in nil },
                mint: { Self.rows(tag: $0.grantTag, refresh: "raced.next") })
            // A later replay revoked the family, or none came after the commit: either way no second grant.
            switch rotated.0 {
            case .rotated(let family): #expect(family.familyID == record.familyID)
            case .revoked:
                #expect(replays.contains { if case .replayed(let revoked) = $0.0 { !revoked.isEmpty } else { false } })
            default: Issue.record("the issued refresh token is \(rotated.0)")
            }
        }
    }

    @Test(
        "refresh tokens rotate; a retired one inside the grace works, after it revokes the family",
        arguments: TestStores.available)
    func rotation(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await Self.newFamily(store, code: "c", refresh: "f-c.r1")
            let now = UnixTime.now()
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 5)
            func rotate(_ token: String, to next: String, at time: Int64) async throws -> RefreshRotation {
                try await store.rotateRefreshToken(
                    token, policy: policy, now: time, check: { _ in nil },
                    mint: { Self.rows(tag: $0.grantTag, refresh: next) }
                ).0
            }
            guard case .rotated = try await rotate("f-c.r1", to: "f-c.r2", at: now) else {
                Issue.record("r1")
                return
            }
            guard case .rotated = try await rotate("f-c.r1", to: "f-c.r3", at: now + 2) else {
                Issue.record("grace retry")
                return
            }
            // A second retry within the grace is answered too (its first answer may have been lost as well).
            guard case .rotated = try await rotate("f-c.r1", to: "f-c.r3b", at: now + 3) else {
                Issue.record("second grace retry")
                return
            }
            // r3b is the newest; r2 was retired by the first retry.
            guard case .reuseDetected(let revoked) = try await rotate("f-c.r2", to: "f-c.r4", at: now + 10) else {
                Issue.record("r2")
                return
            }
            // The code's token and the three rotations' tokens: by their rows, or on SQLite by their grant's tag.
            #expect(revoked.count == (kind == .sqlite ? 1 : 4))
            guard case .revoked = try await rotate("f-c.r3", to: "f-c.r5", at: now + 11) else {
                Issue.record("r3")
                return
            }
        }
    }

    @Test(
        "a family rotated 200 times keeps one live token, and knows its older ones for retired",
        arguments: TestStores.available)
    func longChain(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await Self.newFamily(store, code: "chain", refresh: "f-chain.t0")
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 0)
            for index in 0..<200 {
                let rotated = try await store.rotateRefreshToken(
                    "f-chain.t\(index)", policy: policy, check: { _ in nil },
                    mint: { Self.rows(tag: $0.grantTag, refresh: "f-chain.t\(index + 1)") }
                )
                guard case .rotated = rotated.0 else {
                    Issue.record("rotation \(index): \(rotated.0)")
                    return
                }
            }
            if kind == .postgres {
                let live = try await store.read("count the live tokens") { database in
                    try await database.raw("SELECT COUNT(*) AS live FROM refresh_tokens WHERE rotated_at IS NULL")
                        .first()?.decode(column: "live", as: Int.self)
                }
                #expect(live == 1)
                return
            }
            // SQLite keeps the live and the previous digest in the family's row, and no token rows.
            let kept = try await store.read("read the family's row") { database in
                let rows = try await database.raw("SELECT COUNT(*) AS rows FROM refresh_tokens").first()?
                    .decode(column: "rows", as: Int.self)
                let family = try await database.raw(
                    "SELECT live_hash, previous_hash FROM refresh_families WHERE family_id = 'f-chain'"
                ).first()
                return (
                    rows, try family?.decode(column: "live_hash", as: String?.self),
                    try family?.decode(column: "previous_hash", as: String?.self)
                )
            }
            #expect(kept.0 == 0)
            #expect(kept.1 == SecretDigest.hex("f-chain.t200"))
            #expect(kept.2 == SecretDigest.hex("f-chain.t199"))
            // The 150th token is older than the previous one: a reuse, whatever the grace.
            let lenient = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 1000)
            let old = try await store.rotateRefreshToken(
                "f-chain.t150", policy: lenient, check: { _ in nil },
                mint: { Self.rows(tag: $0.grantTag, refresh: "f-chain.x") })
            guard case .reuseDetected(let revoked) = old.0 else {
                Issue.record("an old token of the chain: \(old.0)")
                return
            }
            #expect(revoked.count == (kind == .sqlite ? 1 : 201))
        }
    }

    @Test(
        "only access tokens of a refresh family are in the family index, and revoking a family finds them there",
        arguments: TestStores.available)
    func familyIndex(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let definition = try await store.read("read the family index") { database in
                let sql: SQLQueryString =
                    kind == .sqlite
                    ? "SELECT sql AS definition FROM sqlite_master WHERE name = 'access_tokens_family'"
                    : "SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'access_tokens_family'"
                return try await database.raw(sql).first()?.decode(column: "definition", as: String.self)
            }
            #expect(
                definition?.replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "")
                    .contains("WHERE family_id IS NOT NULL") == true,
                "\(definition ?? "no index")")
            // The query by family uses the partial index (PostgreSQL told not to scan the tiny table instead).
            let plan = try await store.read("explain the family's revocation") { database in
                if kind == .sqlite {
                    return try await database.raw(
                        "EXPLAIN QUERY PLAN SELECT token_id FROM access_tokens WHERE family_id = \(bind: "f")"
                    ).all().map { try $0.decode(column: "detail", as: String.self) }
                }
                try await database.raw("SET enable_seqscan = off").run()
                let lines = try await database.raw(
                    "EXPLAIN SELECT token_id FROM access_tokens WHERE family_id = \(bind: "f")"
                ).all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }
                try await database.raw("RESET enable_seqscan").run()
                return lines
            }
            #expect(plan.contains { $0.contains("access_tokens_family") }, "\(plan)")
            // A token without a family beside the family's: only the family's is revoked with it.
            try await store.recordIssued(StoreConformanceTests.token(id: "bearer-token"))
            try await Self.newFamily(store, code: "c", refresh: "f-c.r1")
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 0)
            _ = try await store.rotateRefreshToken(
                "f-c.r1", policy: policy, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: "f-c.r2") })
            let replayed = try await store.rotateRefreshToken(
                "f-c.r1", policy: policy, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: "f-c.r3") })
            guard case .reuseDetected(let revoked) = replayed.0 else {
                Issue.record("a retired refresh token past the grace: \(replayed.0)")
                return
            }
            // The code's token and the rotation's (on SQLite by the tag they carry).
            #expect(revoked.count == (kind == .sqlite ? 1 : 2), "\(revoked)")
            #expect(try await store.isRevoked(tokenID: "bearer-token") == false)
        }
    }

    @Test("SQLite prepares each grant statement once: none is prepared again for new values")
    func noReprepares() async throws {
        try await TestStores.with(.sqlite) { store in
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 0)
            /// Every grant's statements, with values of their own each round.
            func grants(round: Int) async throws {
                for family in 0..<3 {
                    let name = "r\(round)-f\(family)"
                    try await Self.newFamily(store, code: "code-\(name)", refresh: "f-code-\(name).0")
                    for index in 0..<4 {
                        _ = try await store.rotateRefreshToken(
                            "f-code-\(name).\(index)", policy: policy, check: { _ in nil },
                            mint: { Self.rows(tag: $0.grantTag, refresh: "f-code-\(name).\(index + 1)") })
                    }
                    let key = "jti:app.a:\(name)"
                    let token = StoreConformanceTests.exchanged(key)
                    _ = try await store.recordExchange(
                        replayKey: key, replayExpiresAt: UnixTime.now() + 90, token: token)
                    _ = try await store.issuedToken(id: token.tokenID)
                }
            }
            func reprepares() async throws -> [Int?] {
                [
                    try await store.transaction("count re-preparations") { ($0 as? SQLiteHandle)?.reprepares },
                    try await store.read("count re-preparations") { ($0 as? SQLiteHandle)?.reprepares },
                ]
            }
            // The first round prepares what it runs (statements prepared before the migrations
            // changed the schema are prepared again once); the second finds them all prepared.
            try await grants(round: 0)
            let before = try await reprepares()
            try await grants(round: 1)
            let after = try await reprepares()
            #expect(before.allSatisfy { $0 != nil })
            #expect(after == before, "re-prepared (writer, reader): \(before) before the second round, \(after) after")
        }
    }

    @Test("SQLite: families begun before schemas 8 and 9 carry on, judged and found through the family's row")
    func familiesBeforeSchema8() async throws {
        let location = try TestStores.fresh(.sqlite)
        let now = UnixTime.now()
        // As a schema-7 gateway left them: family a rotated twice, family b never; tokens without a family id.
        let older = try await Store.open(location, schemaThrough: 7)
        try await older.transaction("an older gateway's families") { database in
            for family in ["a", "b"] {
                try await database.raw(
                    """
                    INSERT INTO refresh_families (family_id, app_key, client_id, account_id, scope, created_at, last_used_at)
                    VALUES (\(bind: family), 'app.a', 'a-3lo', 'alice', 'read:jira-work offline_access',
                            \(bind: now - 200), \(bind: now - 1))
                    """
                ).run()
            }
            let tokens: [(String, String, Int64?)] = [
                ("legacy-a0", "a", now - 100), ("legacy-a1", "a", now - 1), ("legacy-a2", "a", nil),
                ("legacy-b0", "b", nil),
            ]
            // A 3LO grant without offline_access: its token names a family that has no row (schema 9 adds one).
            try await database.raw(
                """
                INSERT INTO access_tokens (token_id, app_key, account_id, client_id, grant_type, scope, issued_at,
                                           expires_at, family_id)
                VALUES ('erin-3lo', 'app.a', 'erin', 'a-3lo', 'authorization-code', 'read:jira-work', \(bind: now),
                        \(bind: now + 3600), 'no-offline')
                """
            ).run()
            for (token, family, rotatedAt) in tokens {
                try await database.raw(
                    """
                    INSERT INTO refresh_tokens (token_hash, family_id, issued_at, rotated_at)
                    VALUES (\(bind: SecretDigest.hex(token)), \(bind: family), \(bind: now - 200), \(bind: rotatedAt))
                    """
                ).run()
            }
        }
        await older.close()
        let store = try await Store.open(location)
        do {
            try await Self.carryOn(store, now: now)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// The checks of `familiesBeforeSchema8` once the store is at the latest schema.
    private static func carryOn(_ store: Store, now: Int64) async throws {
        let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 10)
        func rotate(_ token: String, to next: String?) async throws -> RefreshRotation {
            try await store.rotateRefreshToken(
                token, policy: policy, now: now, check: { _ in nil }, mint: { rows(tag: $0.grantTag, refresh: next) }
            ).0
        }
        // b's live token rotates into a token of the new form, which rotates in turn; the old one is then a reuse.
        guard case .rotated(let family) = try await rotate("legacy-b0", to: "b.n1"),
            case .rotated = try await rotate("b.n1", to: "b.n2")
        else {
            Issue.record("family b did not rotate")
            return
        }
        // Schema 10 gave the family a tag (SQLite's randomblob, in hex): its new tokens carry it,
        // and ending the family revokes it.
        let tag = try #require(family.grantTag)
        #expect(tag.count == 32 && tag.allSatisfy(\.isHexDigit))
        guard case .reuseDetected(let revoked) = try await rotate("legacy-b0", to: nil) else {
            Issue.record("the retired legacy-b0 was not a reuse")
            return
        }
        #expect(revoked.map(\.tokenID).contains(RevokedCredential.grant(tag: tag)), "\(revoked)")
        // a's token retired last is a retry within the grace; the one before it is a reuse.
        guard case .rotated = try await rotate("legacy-a1", to: "a.n1") else {
            Issue.record("the retry of legacy-a1 was refused")
            return
        }
        guard case .reuseDetected = try await rotate("legacy-a0", to: nil) else {
            Issue.record("legacy-a0 was not a reuse")
            return
        }
        guard case .unknown = try await rotate("legacy-none", to: nil) else {
            Issue.record("an unknown token of the old form was found")
            return
        }
        // The grant without a family row before schema 9 has one now: revoking its user reaches its token.
        #expect(try await store.revokeTokens(ofUser: "erin") == 1)
        #expect(try await store.isRevoked(tokenID: "erin-3lo"))
    }

    @Test("SQLite: a token naming a family with another secret counts as a retired one of it")
    func forgedSecret() async throws {
        try await TestStores.with(.sqlite) { store in
            try await Self.newFamily(store, code: "c", refresh: "f-c.r1")
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 10)
            let forged = try await store.rotateRefreshToken(
                "f-c.guessed", policy: policy, check: { _ in nil },
                mint: { Self.rows(tag: $0.grantTag, refresh: "f-c.r2") })
            guard case .reuseDetected = forged.0 else {
                Issue.record("\(forged.0)")
                return
            }
            let unknown = try await store.rotateRefreshToken(
                "f-none.r1", policy: policy, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: nil) })
            guard case .unknown = unknown.0 else {
                Issue.record("\(unknown.0)")
                return
            }
        }
    }

    @Test("families expire after inactivity and after their absolute life", arguments: TestStores.available)
    func expiry(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await Self.newFamily(store, code: "c", refresh: "f-c.r1")
            let now = UnixTime.now()
            let idle = RefreshPolicy(inactivity: 60, absolute: 1000, reuseGrace: 5)
            let result = try await store.rotateRefreshToken(
                "f-c.r1", policy: idle, now: now + 61, check: { _ in nil },
                mint: { Self.rows(tag: $0.grantTag, refresh: "f-c.r2") })
            guard case .expired = result.0 else {
                Issue.record("\(result.0)")
                return
            }

            try await store.insertCode("c2", Self.record(family: "f-c2"))
            _ = try await store.redeemCode(
                "c2", now: now, check: { _ in nil }, mint: { Self.rows(tag: $0.grantTag, refresh: "f-c2.a1") })
            let old = RefreshPolicy(inactivity: 1000, absolute: 100, reuseGrace: 5)
            let aged = try await store.rotateRefreshToken(
                "f-c2.a1", policy: old, now: now + 101, check: { _ in nil },
                mint: { Self.rows(tag: $0.grantTag, refresh: "f-c2.a2") })
            guard case .expired = aged.0 else {
                Issue.record("\(aged.0)")
                return
            }
        }
    }

    @Test("consents are kept, listed and withdrawn with every 3LO token of the app", arguments: TestStores.available)
    func consents(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await store.saveConsent(accountId: "alice", appKey: "app.a", scopes: ["read:jira-work"])
            try await store.saveConsent(
                accountId: "alice", appKey: "app.a", scopes: ["read:jira-work", "offline_access"])
            #expect(
                try await store.consent(accountId: "alice", appKey: "app.a") == ["read:jira-work", "offline_access"])
            #expect(try await store.consents(accountId: "alice").map(\.appKey) == ["app.a"])
            let twoLegged = StoreConformanceTests.token(app: "app.a", user: "alice")
            // Issued as /token issues it: from a code, here without offline_access (no refresh token).
            let threeLegged = try await Self.threeLegged(store, user: "alice", offline: false)
            try await store.recordIssued(twoLegged)
            let revoked = try await store.revokeGrant(accountId: "alice", appKey: "app.a")
            let name =
                kind == .sqlite ? RevokedCredential.grant(tag: try #require(threeLegged.grantTag)) : threeLegged.tokenID
            #expect(revoked.map(\.tokenID) == [name])
            #expect(try await store.isRevoked(threeLegged))
            #expect(try await store.isRevoked(twoLegged) == false)
            #expect(try await store.consent(accountId: "alice", appKey: "app.a") == nil)
        }
    }

    @Test(
        "revoking an app or a user reaches its 3LO tokens, with a refresh token or without",
        arguments: TestStores.available)
    func revokeThreeLegged(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            func grant(_ user: String, offline: Bool) async throws -> AccessToken {
                try await Self.threeLegged(store, user: user, offline: offline)
            }
            let bob = [try await grant("bob", offline: true), try await grant("bob", offline: false)]
            let carol = [try await grant("carol", offline: true), try await grant("carol", offline: false)]
            let other = StoreConformanceTests.token(app: "app.b", user: "dave")
            try await store.recordIssued(other)
            #expect(try await store.revokeTokens(ofUser: "bob") == 2)
            for token in bob { #expect(try await store.isRevoked(token)) }
            for token in carol { #expect(try await store.isRevoked(token) == false) }
            #expect(try await store.revokeTokens(ofApp: "app.a") == 2)
            for token in carol { #expect(try await store.isRevoked(token)) }
            #expect(try await store.isRevoked(tokenID: other.tokenID) == false)
        }
    }

    @Test("sessions are found by their cookie until they expire or end", arguments: TestStores.available)
    func sessions(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await store.createSession(cookie: "cookie-1", accountId: "alice", csrf: "t", lifetime: 60)
            #expect(try await store.session(cookie: "cookie-1")?.accountId == "alice")
            #expect(try await store.session(cookie: "cookie-1", now: UnixTime.now() + 61) == nil)
            #expect(try await store.session(cookie: "cookie-2") == nil)
            try await store.deleteSession(cookie: "cookie-1")
            #expect(try await store.session(cookie: "cookie-1") == nil)
            let site = try await store.siteID()
            #expect(try await store.siteID() == site)
        }
    }
}

/// Application-link tokens, nonces and API tokens, the same on SQLite and PostgreSQL.
@Suite("Store conformance: OAuth 1.0a and API tokens (SQLite and PostgreSQL)")
struct StoreLinkTests {
    static func grant(
        _ token: String, handle: String = "h", user: String = "alice", lifetime: Int64 = 600
    ) -> OAuth1AccessGrant {
        let now = UnixTime.now()
        return OAuth1AccessGrant(
            token: token, secret: "s-" + token, sessionHandle: handle, expiresAt: now + lifetime,
            sessionExpiresAt: now + lifetime + 3600, accountId: user)
    }

    @Test(
        "request token → approval → access token → renewal; a wrong verifier spends the request token",
        arguments: TestStores.available)
    func dance(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let expires = UnixTime.now() + 600
            try await store.createRequestToken(
                "rt", secret: "rs", consumerKey: "c", appKey: "app", callback: "oob", expiresAt: expires)
            #expect(
                try await store.exchangeRequestToken("rt", consumerKey: "c", verifier: "v", grant: Self.grant("at"))?
                    .code
                    == .permissionDenied, "not approved yet")
            #expect(try await store.decideRequestToken("rt", accountId: "alice", verifier: "v"))
            #expect(try await store.decideRequestToken("rt", accountId: "bob", verifier: "w") == false, "decided once")
            #expect(
                try await store.exchangeRequestToken(
                    "rt", consumerKey: "other", verifier: "v", grant: Self.grant("at"))?.code
                    == .tokenRejected)
            #expect(
                try await store.exchangeRequestToken("rt", consumerKey: "c", verifier: "v", grant: Self.grant("at"))
                    == nil)
            #expect(
                try await store.exchangeRequestToken("rt", consumerKey: "c", verifier: "v", grant: Self.grant("at2"))?
                    .code
                    == .tokenRejected, "spent")
            let access = try #require(try await store.oauth1Token("at"))
            #expect(access.kind == .access && access.accountId == "alice" && !access.revoked)
            let renewed = try await store.renewAccessToken(
                "at", sessionHandle: "h", consumerKey: "c",
                makeGrant: { user, end in
                    OAuth1AccessGrant(
                        token: "at3", secret: "s3", sessionHandle: "h", expiresAt: end - 10, sessionExpiresAt: end,
                        accountId: user)
                })
            #expect((try? renewed.get())?.token == "at3")
            #expect(try await store.oauth1Token("at")?.revoked == true)
            let wrongHandle = try await store.renewAccessToken(
                "at3", sessionHandle: "nope", consumerKey: "c",
                makeGrant: { _, _ in
                    Self.grant("x")
                })
            #expect(throws: OAuth1Problem.self) { try wrongHandle.get() }
            #expect(try await store.oauth1Grants(accountId: "alice").map(\.appKey) == ["app"])
            #expect(try await store.revokeOAuth1(accountId: "alice", appKey: "app") == 1)
            #expect(try await store.oauth1Grants(accountId: "alice").isEmpty)

            try await store.createRequestToken(
                "rt2", secret: "rs", consumerKey: "c", appKey: "app", callback: "oob", expiresAt: expires)
            #expect(try await store.decideRequestToken("rt2", accountId: "alice", verifier: "v"))
            #expect(
                try await store.exchangeRequestToken(
                    "rt2", consumerKey: "c", verifier: "guess", grant: Self.grant("a4"))?.code
                    == .permissionDenied)
            #expect(
                try await store.exchangeRequestToken("rt2", consumerKey: "c", verifier: "v", grant: Self.grant("a4"))?
                    .code
                    == .tokenRejected, "one guess only")
            try await store.createRequestToken(
                "rt3", secret: "rs", consumerKey: "c", appKey: "app", callback: "oob", expiresAt: expires)
            #expect(try await store.decideRequestToken("rt3", accountId: "alice", verifier: nil))
            #expect(
                try await store.exchangeRequestToken(
                    "rt3", consumerKey: "c", verifier: "denied", grant: Self.grant("a5"))?.code
                    == .userRefused)
        }
    }

    @Test("a nonce is accepted once, even when racing", arguments: TestStores.available)
    func nonces(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            // One expiry for all: a replayed nonce carries the same signed timestamp, so the same
            // expiry (read per task, a second boundary in the race made two distinct nonces).
            let expiresAt = UnixTime.now() + 600
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.recordNonce("c\u{0}t\u{0}1\u{0}n", expiresAt: expiresAt)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    @Test(
        "a nonce spent before schema 5 is still refused after it; SQLite keeps nonces by expiry, without a rowid",
        arguments: TestStores.available)
    func nonceTableMigration(kind: TestStores.Kind) async throws {
        let location = try TestStores.fresh(kind)
        let expiresAt = UnixTime.now() + 600
        let before = "c\u{0}t\u{0}1\u{0}before"
        let older = try await Store.open(location, schemaThrough: 4)
        // As a gateway of schema 4 spent it: one row keyed by its digest.
        try await older.transaction("spend a nonce as schema 4 did") { database in
            try await database.raw(
                "INSERT INTO oauth1_nonces (nonce_key, expires_at) VALUES (\(bind: SecretDigest.hex(before)), \(bind: expiresAt))"
            ).run()
        }
        await older.close()

        let store = try await Store.open(location)
        do {
            #expect(try await store.recordNonce(before, expiresAt: expiresAt) == false)
            let recorded = try await store.recordNonceDigests([
                (NonceDigest(key: "c\u{0}t\u{0}1\u{0}after"), expiresAt), (NonceDigest(key: before), expiresAt),
                (NonceDigest(key: "c\u{0}t\u{0}1\u{0}after"), expiresAt),
            ])
            #expect(recorded == [NonceDigest(key: "c\u{0}t\u{0}1\u{0}after")])
            #expect(try await store.recordNonce("c\u{0}t\u{0}1\u{0}after", expiresAt: expiresAt) == false)
            if kind == .sqlite {
                let table = try await store.read("read the nonce table") { database in
                    try await database.raw("SELECT sql FROM sqlite_master WHERE name = 'oauth1_nonces'")
                        .first()?.decode(column: "sql", as: String.self)
                }
                #expect(table?.contains("WITHOUT ROWID") == true, "\(table ?? "no table")")
                let plan = try await store.read("explain the prune") { database in
                    try await database.raw("EXPLAIN QUERY PLAN DELETE FROM oauth1_nonces WHERE expires_at < 1")
                        .all().map { try $0.decode(column: "detail", as: String.self) }
                }
                #expect(plan.contains { $0.contains("PRIMARY KEY") }, "\(plan)")
            }
            // Pruned once out of the window (an hour after expiry), a nonce would be new again.
            try await store.prune(now: expiresAt + 3601)
            #expect(try await store.recordNonce(before, expiresAt: expiresAt))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("API tokens are found by value until revoked; only hashes are kept", arguments: TestStores.available)
    func apiTokens(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            try await store.createAPIToken(id: "at-1", token: "lgat_secret", accountId: "alice", label: "ci")
            #expect(try await store.apiToken("lgat_secret")?.accountId == "alice")
            #expect(try await store.apiToken("lgat_other") == nil)
            #expect(try await store.apiTokens(accountId: "alice").map(\.label) == ["ci"])
            #expect(try await store.revokeAPIToken(id: "at-1"))
            #expect(try await store.revokeAPIToken(id: "at-1") == false)
            #expect(try await store.apiToken("lgat_secret") == nil)
            #expect(try await store.apiTokens().first?.revoked == true)
        }
    }
}
