import JWT
import SQLKit

/// A revoked access token: its `jti`, kept until the token would have expired anyway.
public struct Revocation: Sendable, Hashable {
    public let tokenID: String
    public let expiresAt: Int64

    public init(tokenID: String, expiresAt: Int64) {
        self.tokenID = tokenID
        self.expiresAt = expiresAt
    }

    init(row: any SQLRow) throws {
        self.init(
            tokenID: try row.decode(column: "token_id", as: String.self),
            expiresAt: try row.decode(column: "expires_at", as: Int64.self))
    }
}

extension Store {
    /// Revokes one token by its `jti`. Returns false when it was already revoked.
    @discardableResult
    public func revokeToken(id: String, expiresAt: Int64, reason: String) async throws(StoreError) -> Bool {
        let now = UnixMilliseconds.now()
        return try await session("revoke the token") { database in
            !(try await database.raw(
                """
                INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
                VALUES (\(bind: id), \(bind: expiresAt), \(bind: now), \(bind: reason))
                ON CONFLICT (token_id) DO NOTHING RETURNING token_id
                """
            ).all().isEmpty)
        }
    }

    /// Revokes every live token issued to the app `key` (and its refresh token families and
    /// application-link tokens); returns how many access tokens, and 3LO grants whose tokens
    /// carry a tag (SQLite), were newly revoked.
    public func revokeTokens(ofApp key: String) async throws(StoreError) -> Int {
        try await revokeTokens(where: "app_key", equals: key, reason: "app \(key)")
    }

    /// Revokes every live token acting as the user `accountId` (and their refresh token families
    /// and application-link tokens); returns how many access tokens, and 3LO grants whose
    /// tokens carry a tag (SQLite), were newly revoked.
    public func revokeTokens(ofUser accountId: String) async throws(StoreError) -> Int {
        try await revokeTokens(where: "account_id", equals: accountId, reason: "user \(accountId)")
    }

    private func revokeTokens(
        where column: String, equals value: String, reason: String
    ) async throws(StoreError) -> Int {
        let now = UnixMilliseconds.now()
        let seconds = UnixTime.now()
        let postgres = isPostgres
        return try await transaction("revoke tokens") { database in
            try await database.raw(
                """
                UPDATE refresh_families SET revoked_at = \(bind: seconds) WHERE \(ident: column) = \(bind: value) AND revoked_at IS NULL
                """
            ).run()
            // Application-link access tokens go into the revocation list too, so gateways that
            // hold them verified in memory drop them (docs/links.md).
            try await database.raw(
                """
                INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
                SELECT \(bind: RevokedCredential.oauth1Prefix) || token_hash, expires_at, \(bind: now), \(bind: reason)
                FROM oauth1_tokens
                WHERE \(ident: column) = \(bind: value) AND kind = 'access' AND revoked_at IS NULL
                  AND expires_at > \(bind: seconds)
                ON CONFLICT (token_id) DO NOTHING
                """
            ).run()
            try await database.raw(
                """
                UPDATE oauth1_tokens SET revoked_at = \(bind: seconds) WHERE \(ident: column) = \(bind: value) AND revoked_at IS NULL
                """
            ).run()
            let tokens: SQLQueryString =
                postgres
                ? """
                SELECT token_id, expires_at, \(bind: now), \(bind: reason) FROM access_tokens
                WHERE \(ident: column) = \(bind: value) AND expires_at > \(bind: seconds)
                """
                // SQLite: 3LO tokens are not in the app and user indexes, but found through their family (schema 9).
                : """
                SELECT token_id, expires_at, \(bind: now), \(bind: reason) FROM access_tokens
                WHERE \(ident: column) = \(bind: value) AND family_id IS NULL AND expires_at > \(bind: seconds)
                UNION ALL
                SELECT t.token_id, t.expires_at, \(bind: now), \(bind: reason)
                FROM refresh_families f JOIN access_tokens t ON t.family_id = f.family_id
                WHERE f.\(ident: column) = \(bind: value) AND t.expires_at > \(bind: seconds)
                """
            let revoked = try await database.raw(
                """
                INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
                \(tokens)
                ON CONFLICT (token_id) DO NOTHING RETURNING token_id
                """
            ).all().count
            if postgres { return revoked }
            // SQLite: 3LO tokens from schema 10 on have no rows; their grants' tags refuse them.
            let grants = try await Self.revokeGrantTags(
                of: "\(ident: column) = \(bind: value) AND tokens_expire_at > \(bind: seconds)", reason: reason,
                nowMilliseconds: now, in: database)
            return revoked + grants.count
        }
    }

    /// Revocations made at or after `milliseconds` (Unix time), by any gateway sharing the store.
    public func revocations(sinceMilliseconds milliseconds: Int64) async throws(StoreError) -> [Revocation] {
        try await read("read revocations") { database in
            try await database.raw(
                """
                SELECT token_id, expires_at FROM revoked_tokens WHERE revoked_at_ms >= \(bind: milliseconds)
                """
            ).all().map {
                Revocation(
                    tokenID: try $0.decode(column: "token_id", as: String.self),
                    expiresAt: try $0.decode(column: "expires_at", as: Int64.self))
            }
        }
    }

    /// Every revocation of a token that has not expired yet (loaded at start).
    public func liveRevocations(now: Int64 = UnixTime.now()) async throws(StoreError) -> [Revocation] {
        try await read("read revocations") { database in
            try await database.raw("SELECT token_id, expires_at FROM revoked_tokens WHERE expires_at >= \(bind: now)")
                .all().map {
                    Revocation(
                        tokenID: try $0.decode(column: "token_id", as: String.self),
                        expiresAt: try $0.decode(column: "expires_at", as: Int64.self))
                }
        }
    }

    /// Whether the token is revoked, by its `jti` or its grant's tag, asked of the database itself.
    public func isRevoked(_ token: AccessToken) async throws(StoreError) -> Bool {
        if try await isRevoked(tokenID: token.tokenID) { return true }
        guard let tag = token.grantTag else { return false }
        return try await isRevoked(tokenID: RevokedCredential.grant(tag: tag))
    }

    /// Whether the token `id` is revoked, asked of the database itself.
    public func isRevoked(tokenID id: String) async throws(StoreError) -> Bool {
        try await read("read a revocation") { database in
            try await database.raw("SELECT token_id FROM revoked_tokens WHERE token_id = \(bind: id)").first() != nil
        }
    }

    /// Drops rows that can no longer matter: replay rows of expired assertions,
    /// expired tokens and their revocations, OAuth 1.0a nonces whose timestamp has left
    /// the window (an hour after expiry, beyond any clock skew).
    public func prune(now: Int64 = UnixTime.now()) async throws(StoreError) {
        let horizon = now - 3600
        let postgres = isPostgres
        try await transaction("prune expired rows") { database in
            try await database.raw("DELETE FROM assertion_replays WHERE expires_at < \(bind: horizon)").run()
            try await database.raw("DELETE FROM revoked_tokens WHERE expires_at < \(bind: horizon)").run()
            if postgres {
                try await database.raw("DELETE FROM access_tokens WHERE expires_at < \(bind: horizon)").run()
            } else {
                try await Self.pruneTokensByApp(before: horizon, in: database)
                try await Self.pruneThreeLeggedTokens(before: horizon, in: database)
            }
            try await database.raw("DELETE FROM oauth1_nonces WHERE expires_at < \(bind: horizon)").run()
            if !postgres {
                try await database.raw("DELETE FROM oauth1_nonce_log WHERE expires_at < \(bind: horizon)").run()
            }
        }
        if !postgres { nonceLog.forget(expiredBefore: horizon) }
    }

    /// SQLite has no expiry index on access tokens (schema 7): the app index, ordered by
    /// app then expiry, is walked one app at a time, each app found by one seek past the last.
    /// It holds the tokens without a family only (schema 9).
    static func pruneTokensByApp(before horizon: Int64, in database: any SQLDatabase) async throws {
        var app = try await firstApp(after: nil, in: database)
        while let current = app {
            try await database.raw(
                """
                DELETE FROM access_tokens WHERE app_key = \(bind: current) AND family_id IS NULL AND expires_at < \(bind: horizon)
                """
            ).run()
            app = try await firstApp(after: current, in: database)
        }
    }

    /// How many rows from the start of the access-token table one step of the 3LO prune looks at.
    static let pruneWindow = 10_000

    /// SQLite: 3LO tokens are in no index by time (schema 9). A rowid table appends each row
    /// after the last, so the table in rowid order is the tokens in the order they were
    /// written, and what expired first sits at its start once the app walk took the others:
    /// each step deletes the expired 3LO tokens among the first `pruneWindow` rows, until a
    /// step finds none. A token that outlives those written after it (a lifetime shortened
    /// since) only delays their pruning until it expires itself.
    static func pruneThreeLeggedTokens(before horizon: Int64, in database: any SQLDatabase) async throws {
        while try await !database.raw(
            """
            DELETE FROM access_tokens WHERE rowid IN (
                SELECT rowid FROM (SELECT rowid, family_id, expires_at FROM access_tokens ORDER BY rowid LIMIT \(unsafeRaw: String(pruneWindow)))
                WHERE family_id IS NOT NULL AND expires_at < \(bind: horizon))
            RETURNING 1 AS deleted
            """
        ).all().isEmpty {}
    }

    /// The least app key of the access tokens (past `after`, when given): one seek in the app index.
    private static func firstApp(after: String?, in database: any SQLDatabase) async throws -> String? {
        let query: SQLQueryString =
            if let after {
                "SELECT MIN(app_key) AS app_key FROM access_tokens WHERE family_id IS NULL AND app_key > \(bind: after)"
            } else {
                "SELECT MIN(app_key) AS app_key FROM access_tokens WHERE family_id IS NULL"
            }
        return try await database.raw(query).first()?.decode(column: "app_key", as: String?.self)
    }
}
