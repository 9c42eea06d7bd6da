import JWT
import SQLKit

/// A signed-in browser session: who, and the CSRF token its forms carry.
public struct SessionRecord: Sendable, Equatable {
    public let accountId: String
    public let csrf: String
    public let expiresAt: Int64

    public init(accountId: String, csrf: String, expiresAt: Int64) {
        self.accountId = accountId
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}

extension Store {
    /// Keeps a session under the SHA-256 of its cookie value.
    public func createSession(cookie: String, accountId: String, csrf: String, lifetime: Int64) async throws(StoreError)
    {
        let now = UnixTime.now()
        try await session("create the session") { database in
            try await database.raw(
                """
                INSERT INTO sessions (id_hash, account_id, csrf, created_at, expires_at)
                VALUES (\(bind: SecretDigest.hex(cookie)), \(bind: accountId), \(bind: csrf), \(bind: now), \(bind: now + lifetime))
                """
            ).run()
        }
    }

    /// The live session behind a cookie value, or nil.
    public func session(cookie: String, now: Int64 = UnixTime.now()) async throws(StoreError) -> SessionRecord? {
        try await read("read the session") { database in
            try await database.raw(
                """
                SELECT account_id, csrf, expires_at FROM sessions
                WHERE id_hash = \(bind: SecretDigest.hex(cookie)) AND expires_at > \(bind: now)
                """
            ).first().map {
                SessionRecord(
                    accountId: try $0.decode(column: "account_id", as: String.self),
                    csrf: try $0.decode(column: "csrf", as: String.self),
                    expiresAt: try $0.decode(column: "expires_at", as: Int64.self))
            }
        }
    }

    public func deleteSession(cookie: String) async throws(StoreError) {
        try await session("end the session") { database in
            try await database.raw("DELETE FROM sessions WHERE id_hash = \(bind: SecretDigest.hex(cookie))").run()
        }
    }

    /// The site id of `accessible-resources` when `gateway.json` names none:
    /// generated on first use and kept, so every gateway on the store agrees.
    public func siteID() async throws(StoreError) -> String {
        let candidate = SecureRandom.identifier(bytes: 16)
        return try await session("read the site id") { database in
            try await database.raw(
                """
                INSERT INTO settings (name, value) VALUES ('site_id', \(bind: candidate)) ON CONFLICT (name) DO NOTHING
                """
            ).run()
            return try await database.raw("SELECT value FROM settings WHERE name = 'site_id'").first()?
                .decode(column: "value", as: String.self) ?? candidate
        }
    }
}
