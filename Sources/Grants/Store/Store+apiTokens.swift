import JWT
import SQLKit

/// An API token as the store keeps it: its id, owner and label, never the token.
public struct APITokenRecord: Sendable, Equatable {
    public let id: String
    public let accountId: String
    public let label: String
    public let createdAt: Int64
    public let lastUsedAt: Int64?
    public let revoked: Bool

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        accountId = try row.decode(column: "account_id", as: String.self)
        label = try row.decode(column: "label", as: String.self)
        createdAt = try row.decode(column: "created_at", as: Int64.self)
        lastUsedAt = try row.decode(column: "last_used_at", as: Int64?.self)
        revoked = try row.decode(column: "revoked_at", as: Int64?.self) != nil
    }
}

extension Store {
    static let apiTokenColumns = "id, account_id, label, created_at, last_used_at, revoked_at"

    public func createAPIToken(id: String, token: String, accountId: String, label: String) async throws(StoreError) {
        let now = UnixTime.now()
        try await session("keep the API token") { database in
            try await database.raw(
                """
                INSERT INTO api_tokens (id, token_hash, account_id, label, created_at)
                VALUES (\(bind: id), \(bind: SecretDigest.hex(token)), \(bind: accountId), \(bind: label), \(bind: now))
                """
            ).run()
        }
    }

    /// API tokens, the user's or everyone's, oldest first.
    public func apiTokens(accountId: String? = nil) async throws(StoreError) -> [APITokenRecord] {
        try await read("read API tokens") { database in
            let rows: [any SQLRow]
            if let accountId {
                rows = try await database.raw(
                    """
                    SELECT \(unsafeRaw: Self.apiTokenColumns) FROM api_tokens WHERE account_id = \(bind: accountId) ORDER BY created_at, id
                    """
                ).all()
            } else {
                rows = try await database.raw(
                    "SELECT \(unsafeRaw: Self.apiTokenColumns) FROM api_tokens ORDER BY created_at, id"
                ).all()
            }
            return try rows.map(APITokenRecord.init(row:))
        }
    }

    /// Revokes an API token by id; false when there is none live. The revocation also goes
    /// into the revocation list (`RevokedCredential`), in the same transaction, so every
    /// gateway drops the token from its memory within 2 s.
    public func revokeAPIToken(id: String) async throws(StoreError) -> Bool {
        let now = UnixTime.now()
        return try await transaction("revoke the API token") { database in
            let revoked =
                !(try await database.raw(
                    """
                    UPDATE api_tokens SET revoked_at = \(bind: now) WHERE id = \(bind: id) AND revoked_at IS NULL RETURNING id
                    """
                ).all().isEmpty)
            guard revoked else { return false }
            try await Self.listRevocation(
                of: RevokedCredential.apiToken(id: id), expiresAt: now + RevokedCredential.apiTokenRetention,
                reason: "api token", into: database)
            return true
        }
    }

    /// The live API token with this value, or nil (unknown or revoked).
    public func apiToken(_ token: String) async throws(StoreError) -> APITokenRecord? {
        try await read("check the API token") { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.apiTokenColumns) FROM api_tokens
                WHERE token_hash = \(bind: SecretDigest.hex(token)) AND revoked_at IS NULL
                """
            ).first().map(APITokenRecord.init(row:))
        }
    }
}
