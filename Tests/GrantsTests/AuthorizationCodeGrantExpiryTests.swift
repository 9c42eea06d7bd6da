import Foundation
import JWT
import Testing

@testable import Grants

/// Expiry in the authorization code and refresh token grants (docs/grants.md, "Codes and
/// refresh tokens"), on SQLite and PostgreSQL, with the clock given to each call:
/// codes, refresh token inactivity, the absolute limit and the reuse grace, each at and
/// just past its bound.
@Suite("3LO grants: expiry on an injected clock (SQLite and PostgreSQL)")
struct AuthorizationCodeGrantExpiryTests {
    static let site = "http://127.0.0.1:8080"
    static let client = ThreeLeggedClient(
        appKey: "app.a", clientID: "a-3lo", isPublic: false,
        scopes: ["read:jira-work", "offline_access"])
    /// An arbitrary start, far from the real clock: every time below is taken from it.
    static let start: Int64 = 1_900_000_000

    /// Access tokens revoked by a reuse, as `onRevoked` reports them.
    final class RevokedTokens: @unchecked Sendable {
        private let lock = NSLock()
        private var revocations: [Revocation] = []
        func add(_ more: [Revocation]) { lock.withLock { revocations += more } }
        var all: [Revocation] { lock.withLock { revocations } }
    }

    static func grant(
        _ store: Store, policy: RefreshPolicy, revoked: RevokedTokens = RevokedTokens()
    ) throws -> AuthorizationCodeGrant {
        let issuer = try AccessTokenIssuer(key: try JWTKey.generate(.es256, keyID: "key-1"), issuer: site)
        return AuthorizationCodeGrant(
            issuer: issuer, store: store, accessLifetime: 3600, refreshPolicy: policy,
            onRevoked: { revoked.add($0) })
    }

    /// A code issued at `start` that expires `lifetime` seconds later.
    static func insertCode(_ code: String, into store: Store, lifetime: Int64 = 600) async throws {
        try await store.insertCode(
            code,
            AuthorizationCodeRecord(
                familyID: SecureRandom.identifier(), appKey: client.appKey, clientID: client.clientID,
                accountId: "alice",
                redirectURI: "https://a/cb", scopes: ["read:jira-work", "offline_access"], codeChallenge: nil,
                expiresAt: start + lifetime))
    }

    static func exchange(
        _ grant: AuthorizationCodeGrant, _ code: String, at now: Int64
    ) async throws -> TokenGrantResult {
        try await grant.exchange(
            code: code, redirectURI: "https://a/cb", codeVerifier: nil, client: client, now: now,
            policy: FakeGrantPolicy.everyoneActive)
    }

    static func refresh(
        _ grant: AuthorizationCodeGrant, _ token: String, at now: Int64
    ) async throws -> TokenGrantResult {
        try await grant.refresh(
            token: token, scope: nil, client: client, now: now, policy: FakeGrantPolicy.everyoneActive)
    }

    /// A refusal as the token endpoint answers it: 400 `invalid_grant`, its description containing `words`.
    static func expectInvalidGrant(
        _ error: OAuthError?, _ words: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(error?.code == .invalidGrant, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.status == 400, sourceLocation: sourceLocation)
        #expect(error?.message.contains(words) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test(
        "a code works until its expiry, inclusive; past it, 400 invalid_grant and the code is not spent",
        arguments: TestStores.available)
    func codeExpiry(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let grant = try Self.grant(store, policy: RefreshPolicy(inactivity: 100, absolute: 1000, reuseGrace: 5))
            try await Self.insertCode("code-1", into: store, lifetime: 600)
            let late = await #expect(throws: OAuthError.self) {
                try await Self.exchange(grant, "code-1", at: Self.start + 601)
            }
            Self.expectInvalidGrant(late, "the authorization code has expired")
            let onTime = try await Self.exchange(grant, "code-1", at: Self.start + 600)
            #expect(onTime.expiresIn == 3600)
            #expect(onTime.claims.issuedAt == Self.start + 600 && onTime.claims.expiresAt == Self.start + 4200)
            #expect(onTime.refreshToken != nil)
        }
    }

    @Test(
        "a family unused for its inactivity ends with 400 invalid_grant; it is revoked with its access tokens",
        arguments: TestStores.available)
    func inactivity(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let grant = try Self.grant(store, policy: RefreshPolicy(inactivity: 60, absolute: 1000, reuseGrace: 5))
            try await Self.insertCode("code-1", into: store)
            let issued = try await Self.exchange(grant, "code-1", at: Self.start)
            // Used again exactly at the bound: still live, and the inactivity counts from this use.
            let kept = try await Self.refresh(grant, try #require(issued.refreshToken), at: Self.start + 60)
            #expect(kept.claims.issuedAt == Self.start + 60)
            let idle = try #require(kept.refreshToken)
            let expired = await #expect(throws: OAuthError.self) {
                try await Self.refresh(grant, idle, at: Self.start + 121)
            }
            Self.expectInvalidGrant(expired, "the refresh token has expired")
            // The family ended: presenting the token again finds it revoked, and so are its access tokens.
            let again = await #expect(throws: OAuthError.self) {
                try await Self.refresh(grant, idle, at: Self.start + 122)
            }
            Self.expectInvalidGrant(again, "has been revoked")
            #expect(try await store.isRevoked(issued.claims))
            #expect(try await store.isRevoked(kept.claims))
        }
    }

    @Test(
        "a family older than its absolute limit ends with 400 invalid_grant, however active",
        arguments: TestStores.available)
    func absolute(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let grant = try Self.grant(store, policy: RefreshPolicy(inactivity: 60, absolute: 100, reuseGrace: 5))
            try await Self.insertCode("code-1", into: store)
            var token = try #require(try await Self.exchange(grant, "code-1", at: Self.start).refreshToken)
            for offset: Int64 in [50, 100] {
                token = try #require(try await Self.refresh(grant, token, at: Self.start + offset).refreshToken)
            }
            let expired = await #expect(throws: OAuthError.self) {
                try await Self.refresh(grant, token, at: Self.start + 101)
            }
            Self.expectInvalidGrant(expired, "the refresh token has expired")
        }
    }

    @Test(
        "a rotated token is a retry within the reuse grace; at its end, 400 invalid_grant and the family is revoked",
        arguments: TestStores.available)
    func reuseGrace(kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            let revoked = RevokedTokens()
            let grant = try Self.grant(
                store, policy: RefreshPolicy(inactivity: 60, absolute: 1000, reuseGrace: 5),
                revoked: revoked)
            try await Self.insertCode("code-1", into: store)
            let issued = try await Self.exchange(grant, "code-1", at: Self.start)
            let first = try #require(issued.refreshToken)
            let rotated = try await Self.refresh(grant, first, at: Self.start + 10)
            let retry = try await Self.refresh(grant, first, at: Self.start + 14)
            #expect(retry.refreshToken != nil && retry.refreshToken != rotated.refreshToken)
            // The grace counts from the rotation (start + 10) and ends at start + 15.
            let reused = await #expect(throws: OAuthError.self) {
                try await Self.refresh(grant, first, at: Self.start + 15)
            }
            Self.expectInvalidGrant(reused, "already used")
            // What `onRevoked` was told refuses the three tokens: by their `jti`s, or on SQLite
            // by the grant tag they carry.
            let list = RevocationList()
            list.insert(revoked.all)
            for token in [issued, rotated, retry] { #expect(list.contains(token.claims)) }
            #expect(revoked.all.count == (kind == .sqlite ? 1 : 3))
            let newest = try #require(retry.refreshToken)
            let current = await #expect(throws: OAuthError.self) {
                try await Self.refresh(grant, newest, at: Self.start + 16)
            }
            Self.expectInvalidGrant(current, "has been revoked")
        }
    }
}
