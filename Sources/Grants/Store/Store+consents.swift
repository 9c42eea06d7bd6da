import JWT
import SQLKit

/// A user's standing consent to an app (3LO), shown on `/account/apps`.
public struct ConsentRecord: Sendable, Equatable {
    public let appKey: String
    public let scopes: [String]
    public let grantedAt: Int64
}

extension Store {
    /// The scopes the user has consented to for the app, or nil.
    public func consent(accountId: String, appKey: String) async throws(StoreError) -> [String]? {
        try await read("read the consent") { database in
            try await database.raw(
                """
                SELECT scope FROM consents WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey)
                """
            ).first().map { try $0.decode(column: "scope", as: String.self).split(separator: " ").map(String.init) }
        }
    }

    /// Remembers (or replaces) the user's consent to the app.
    public func saveConsent(accountId: String, appKey: String, scopes: [String]) async throws(StoreError) {
        let now = UnixTime.now()
        try await session("keep the consent") { database in
            try await database.raw(
                """
                INSERT INTO consents (account_id, app_key, scope, granted_at)
                VALUES (\(bind: accountId), \(bind: appKey), \(bind: scopes.joined(separator: " ")), \(bind: now))
                ON CONFLICT (account_id, app_key) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at
                """
            ).run()
        }
    }

    /// Every app the user has consented to, by app key.
    public func consents(accountId: String) async throws(StoreError) -> [ConsentRecord] {
        try await read("read the consents") { database in
            try await database.raw(
                """
                SELECT app_key, scope, granted_at FROM consents WHERE account_id = \(bind: accountId) ORDER BY app_key
                """
            ).all().map {
                ConsentRecord(
                    appKey: try $0.decode(column: "app_key", as: String.self),
                    scopes: try $0.decode(column: "scope", as: String.self).split(separator: " ").map(String.init),
                    grantedAt: try $0.decode(column: "granted_at", as: Int64.self))
            }
        }
    }

    /// Withdraws the user's grant to the app in one transaction: the consent,
    /// every refresh token family, and every 3LO access token (on SQLite by its grant's tag).
    /// Returns the revocations made: access tokens, and grant tags.
    public func revokeGrant(accountId: String, appKey: String) async throws(StoreError) -> [Revocation] {
        let nowMilliseconds = UnixMilliseconds.now()
        let now = UnixTime.now()
        let postgres = isPostgres
        return try await transaction("revoke the grant") { database in
            try await database.raw(
                """
                DELETE FROM consents WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey)
                """
            ).run()
            try await database.raw(
                """
                UPDATE refresh_families SET revoked_at = \(bind: now)
                WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey) AND revoked_at IS NULL
                """
            ).run()
            let tokens: SQLQueryString =
                postgres
                ? """
                SELECT token_id, expires_at, \(bind: nowMilliseconds), 'grant withdrawn' FROM access_tokens
                WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey)
                  AND grant_type = 'authorization-code' AND expires_at > \(bind: now)
                """
                // SQLite: 3LO tokens are found through their family only (schema 9).
                : """
                SELECT t.token_id, t.expires_at, \(bind: nowMilliseconds), 'grant withdrawn'
                FROM refresh_families f JOIN access_tokens t ON t.family_id = f.family_id
                WHERE f.account_id = \(bind: accountId) AND f.app_key = \(bind: appKey) AND t.expires_at > \(bind: now)
                """
            let revoked = try await database.raw(
                """
                INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
                \(tokens)
                ON CONFLICT (token_id) DO NOTHING RETURNING token_id, expires_at
                """
            ).all().map(Revocation.init(row:))
            if postgres { return revoked }
            // SQLite: 3LO tokens from schema 10 on have no rows; their grants' tags refuse them.
            return try await revoked
                + Self.revokeGrantTags(
                    of:
                        "account_id = \(bind: accountId) AND app_key = \(bind: appKey) AND tokens_expire_at > \(bind: now)",
                    reason: "grant withdrawn", nowMilliseconds: nowMilliseconds, in: database)
        }
    }
}
