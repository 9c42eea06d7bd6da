import Foundation
import JWT
import Testing

@testable import Grants

/// Codes, refresh families, consents and sessions, the same on SQLite and PostgreSQL.
@Suite("Store conformance: 3LO (SQLite and PostgreSQL)")
struct StoreThreeLeggedTests {
    static func record(family: String = SecureRandom.identifier(), expiresIn: Int64 = 600) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord(familyID: family, appKey: "app.a", clientID: "a-3lo", accountId: "alice",
                                redirectURI: "https://a/cb", scopes: ["read:jira-work", "offline_access"],
                                codeChallenge: nil, expiresAt: UnixTime.now() + expiresIn)
    }

    static func rows(refresh: String?) -> GrantRows {
        let token = StoreConformanceTests.token(app: "app.a", user: "alice")
        return GrantRows(accessToken: token, refreshTokenHash: refresh.map(SecretDigest.hex))
    }

    func withStore(_ kind: TestStores.Kind, _ body: (Store) async throws -> Void) async throws {
        let store = try await Store.open(try TestStores.fresh(kind))
        do { try await body(store) } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("a code is spent once; the second use revokes what the first issued", arguments: TestStores.available)
    func codes(kind: TestStores.Kind) async throws {
        try await withStore(kind) { store in
            try await store.insertCode("code-1", Self.record())
            let refused = try await store.redeemCode("code-1", check: { _ in OAuthError(.invalidGrant, "no") }, mint: { _ in
                Self.rows(refresh: nil)
            })
            guard case .refused = refused.0 else { Issue.record("not refused: \(refused.0)"); return }
            let first = try await store.redeemCode("code-1", check: { _ in nil }, mint: { _ in Self.rows(refresh: "r-1") })
            guard case .issued = first.0, let token = first.1?.accessToken else { Issue.record("not issued"); return }
            let second = try await store.redeemCode("code-1", check: { _ in nil }, mint: { _ in Self.rows(refresh: nil) })
            guard case .replayed(let revoked) = second.0 else { Issue.record("not a replay: \(second.0)"); return }
            #expect(revoked.map(\.tokenID) == [token.tokenID])
            #expect(try await store.isRevoked(tokenID: token.tokenID))
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 10)
            let refresh = try await store.rotateRefreshToken("r-1", policy: policy, check: { _ in nil }, mint: { _ in Self.rows(refresh: "r-2") })
            guard case .revoked = refresh.0 else { Issue.record("the family lives on: \(refresh.0)"); return }
            let unknown = try await store.redeemCode("nope", check: { _ in nil }, mint: { _ in Self.rows(refresh: nil) })
            guard case .unknown = unknown.0 else { Issue.record("\(unknown.0)"); return }
            try await store.insertCode("old", Self.record(expiresIn: -1))
            let expired = try await store.redeemCode("old", check: { _ in nil }, mint: { _ in Self.rows(refresh: nil) })
            guard case .expired = expired.0 else { Issue.record("\(expired.0)"); return }
        }
    }

    @Test("refresh tokens rotate; a retired one inside the grace works, after it revokes the family",
          arguments: TestStores.available)
    func rotation(kind: TestStores.Kind) async throws {
        try await withStore(kind) { store in
            try await store.insertCode("c", Self.record())
            _ = try await store.redeemCode("c", check: { _ in nil }, mint: { _ in Self.rows(refresh: "r1") })
            let now = UnixTime.now()
            let policy = RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 5)
            func rotate(_ token: String, to next: String, at time: Int64) async throws -> RefreshRotation {
                try await store.rotateRefreshToken(token, policy: policy, now: time, check: { _ in nil },
                                                   mint: { _ in Self.rows(refresh: next) }).0
            }
            guard case .rotated = try await rotate("r1", to: "r2", at: now) else { Issue.record("r1"); return }
            guard case .rotated = try await rotate("r1", to: "r3", at: now + 2) else { Issue.record("grace retry"); return }
            // r3 is the newest; r2 was retired by the retry.
            guard case .reuseDetected(let revoked) = try await rotate("r2", to: "r4", at: now + 10) else { Issue.record("r2"); return }
            #expect(revoked.count == 3)  // the code's token and the two rotations' tokens
            guard case .revoked = try await rotate("r3", to: "r5", at: now + 11) else { Issue.record("r3"); return }
        }
    }

    @Test("families expire after inactivity and after their absolute life", arguments: TestStores.available)
    func expiry(kind: TestStores.Kind) async throws {
        try await withStore(kind) { store in
            try await store.insertCode("c", Self.record())
            _ = try await store.redeemCode("c", check: { _ in nil }, mint: { _ in Self.rows(refresh: "r1") })
            let now = UnixTime.now()
            let idle = RefreshPolicy(inactivity: 60, absolute: 1000, reuseGrace: 5)
            let result = try await store.rotateRefreshToken("r1", policy: idle, now: now + 61, check: { _ in nil },
                                                            mint: { _ in Self.rows(refresh: "r2") })
            guard case .expired = result.0 else { Issue.record("\(result.0)"); return }
        }
    }

    @Test("consents are kept, listed and withdrawn with every 3LO token of the app", arguments: TestStores.available)
    func consents(kind: TestStores.Kind) async throws {
        try await withStore(kind) { store in
            try await store.saveConsent(accountId: "alice", appKey: "app.a", scopes: ["read:jira-work"])
            try await store.saveConsent(accountId: "alice", appKey: "app.a", scopes: ["read:jira-work", "offline_access"])
            #expect(try await store.consent(accountId: "alice", appKey: "app.a") == ["read:jira-work", "offline_access"])
            #expect(try await store.consents(accountId: "alice").map(\.appKey) == ["app.a"])
            var threeLegged = StoreConformanceTests.token(app: "app.a", user: "alice")
            threeLegged = AccessToken(tokenID: threeLegged.tokenID, issuer: threeLegged.issuer, audience: threeLegged.audience,
                                      subject: "alice", clientID: "a-3lo", appKey: "app.a", grant: .authorizationCode,
                                      scopes: ["read:jira-work"], issuedAt: threeLegged.issuedAt, expiresAt: threeLegged.expiresAt)
            let twoLegged = StoreConformanceTests.token(app: "app.a", user: "alice")
            try await store.recordIssued(threeLegged)
            try await store.recordIssued(twoLegged)
            let revoked = try await store.revokeGrant(accountId: "alice", appKey: "app.a")
            #expect(revoked.map(\.tokenID) == [threeLegged.tokenID])
            #expect(try await store.consent(accountId: "alice", appKey: "app.a") == nil)
        }
    }

    @Test("sessions are found by their cookie until they expire or end", arguments: TestStores.available)
    func sessions(kind: TestStores.Kind) async throws {
        try await withStore(kind) { store in
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
