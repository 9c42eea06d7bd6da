import JWT
import SQLKit

/// A refresh token family: one 3LO grant's chain of rotated refresh tokens.
public struct RefreshFamilyRecord: Sendable, Equatable {
    public let familyID: String
    public let appKey: String
    public let clientID: String
    public let accountId: String
    /// The scopes consented when the family began.
    public let scopes: [String]
    public let createdAt: Int64
    public let lastUsedAt: Int64
}

/// The lifetimes that bound a family (docs/policies.md §3, `lifetimes`).
public struct RefreshPolicy: Sendable {
    public let inactivity: Int64
    public let absolute: Int64
    /// How long (whole seconds) a rotated token may be presented again (a client's retry)
    /// before the family is revoked; 0: never.
    public let reuseGrace: Int64

    public init(inactivity: Int64, absolute: Int64, reuseGrace: Int64) {
        self.inactivity = inactivity
        self.absolute = absolute
        self.reuseGrace = reuseGrace
    }
}

/// What presenting a refresh token came to.
public enum RefreshRotation: Sendable {
    /// The token was current (or rotated within the grace window): the new rows are written.
    case rotated(RefreshFamilyRecord)
    /// A rotated token presented after the grace window: the whole family is revoked now.
    case reuseDetected(revoked: [Revocation])
    /// Unused too long, or older than the absolute limit (the family is revoked).
    case expired
    /// The family was revoked before (by the user, a replay or `linkgate revoke`).
    case revoked
    case unknown
    /// `check` refused it (another client, a wider scope): nothing was written.
    case refused(OAuthError)
}

extension Store {
    /// Rotates a refresh token in one transaction: the presented token is retired,
    /// `mint` makes the new access token and refresh token, and their rows are written.
    /// `check` may refuse (another client's token): nothing is written then.
    public func rotateRefreshToken(
        _ token: String, policy: RefreshPolicy, now: Int64 = UnixTime.now(),
        check: @escaping @Sendable (RefreshFamilyRecord) -> OAuthError?,
        mint: @escaping @Sendable (RefreshFamilyRecord) throws -> GrantRows
    ) async throws -> (RefreshRotation, GrantRows?) {
        let hash = SecretDigest.hex(token)
        let nowMilliseconds = UnixMilliseconds.now()
        let postgres = isPostgres
        return try await transaction("rotate the refresh token") { database in
            guard
                let row = try await database.raw(
                    """
                    SELECT t.rotated_at, f.family_id, f.app_key, f.client_id, f.account_id, f.scope, f.created_at,
                           f.last_used_at, f.revoked_at
                    FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id
                    WHERE t.token_hash = \(bind: hash)
                    """
                ).first()
            else { return (.unknown, nil) }
            let family = try RefreshFamilyRecord(
                familyID: row.decode(column: "family_id", as: String.self),
                appKey: row.decode(column: "app_key", as: String.self),
                clientID: row.decode(column: "client_id", as: String.self),
                accountId: row.decode(column: "account_id", as: String.self),
                scopes: row.decode(column: "scope", as: String.self).split(separator: " ").map(String.init),
                createdAt: row.decode(column: "created_at", as: Int64.self),
                lastUsedAt: row.decode(column: "last_used_at", as: Int64.self))
            if let refusal = check(family) { return (.refused(refusal), nil) }
            if try row.decode(column: "revoked_at", as: Int64?.self) != nil { return (.revoked, nil) }
            if now > family.createdAt + policy.absolute || now > family.lastUsedAt + policy.inactivity {
                _ = try await Self.revokeFamily(
                    family.familyID, nowMilliseconds: nowMilliseconds, reason: "refresh expired",
                    in: database)
                return (.expired, nil)
            }
            if let rotatedAt = try row.decode(column: "rotated_at", as: Int64?.self),
                now - rotatedAt >= policy.reuseGrace
            {
                let revoked = try await Self.revokeFamily(
                    family.familyID, nowMilliseconds: nowMilliseconds,
                    reason: "refresh token reuse", in: database)
                return (.reuseDetected(revoked: revoked), nil)
            }
            // Only the newest token of a family works: retire every other one (within the grace
            // window a retry of the previous token is answered, and the successor it got is retired).
            if postgres {
                let rows = try mint(family)
                try await database.raw(Self.rotateStatement(family: family.familyID, rows: rows, now: now)).run()
                return (.rotated(family), rows)
            }
            try await database.raw(
                """
                UPDATE refresh_tokens SET rotated_at = \(bind: now) WHERE family_id = \(bind: family.familyID) AND rotated_at IS NULL
                """
            ).run()
            let rows = try mint(family)
            try await Self.insert(rows.accessToken, family: family.familyID, into: database)
            if let next = rows.refreshTokenHash {
                try await database.raw(
                    """
                    INSERT INTO refresh_tokens (token_hash, family_id, issued_at)
                    VALUES (\(bind: next), \(bind: family.familyID), \(bind: now))
                    """
                ).run()
            }
            try await database.raw(
                """
                UPDATE refresh_families SET last_used_at = \(bind: now) WHERE family_id = \(bind: family.familyID)
                """
            ).run()
            return (.rotated(family), rows)
        }
    }

    /// On PostgreSQL, a rotation's writes in one statement, one round trip instead of four:
    /// the family's live tokens are retired, the new access and refresh tokens inserted
    /// (the retirement cannot see the new refresh token: a statement's parts share one
    /// snapshot) and the family's last use moved on (docs/grants.md, "Transactions").
    static func rotateStatement(family: String, rows: GrantRows, now: Int64) -> SQLQueryString {
        var statement: SQLQueryString = """
            WITH retired AS (
                UPDATE refresh_tokens SET rotated_at = \(bind: now) WHERE family_id = \(bind: family) AND rotated_at IS NULL),
            token AS (\(insertStatement(rows.accessToken, family: family, from: nil)))
            """
        if let next = rows.refreshTokenHash {
            statement =
                statement + """
                    , next AS (
                        INSERT INTO refresh_tokens (token_hash, family_id, issued_at)
                        VALUES (\(bind: next), \(bind: family), \(bind: now)))
                    """
        }
        return statement + """
             UPDATE refresh_families SET last_used_at = \(bind: now) WHERE family_id = \(bind: family)
            """
    }
}
