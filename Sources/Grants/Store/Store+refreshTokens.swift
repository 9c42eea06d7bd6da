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
    /// The tag the grant's access tokens carry (`AccessToken.grantTag`); nil on PostgreSQL.
    public let grantTag: String?
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

/// Where a presented refresh token stands in its family.
enum RefreshTokenStanding: Equatable {
    case live
    /// Retired at this time (Unix seconds): a retry within the grace window, else a reuse.
    case retired(at: Int64)
    /// Retired before the token the family retired last: a reuse whatever the grace.
    case retiredBefore

    /// A token of the family whose row holds these digests (schema version 8, SQLite).
    init(digest: String, live: String?, previous: String?, previousRotatedAt: Int64?) {
        if let live, ConstantTime.equals(digest, live) {
            self = .live
        } else if let previous, let previousRotatedAt, ConstantTime.equals(digest, previous) {
            self = .retired(at: previousRotatedAt)
        } else {
            self = .retiredBefore
        }
    }
}

extension Store {
    static let familyColumns =
        "f.family_id, f.app_key, f.client_id, f.account_id, f.scope, f.created_at, f.last_used_at, f.revoked_at"

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
            let found =
                postgres
                ? try await Self.presentedToken(hash, in: database)
                : try await Self.presentedToken(token, digest: hash, inFamilyRowOf: database)
            guard let (row, standing) = found else { return (.unknown, nil) }
            let family = try RefreshFamilyRecord(
                familyID: row.decode(column: "family_id", as: String.self),
                appKey: row.decode(column: "app_key", as: String.self),
                clientID: row.decode(column: "client_id", as: String.self),
                accountId: row.decode(column: "account_id", as: String.self),
                scopes: row.decode(column: "scope", as: String.self).split(separator: " ").map(String.init),
                createdAt: row.decode(column: "created_at", as: Int64.self),
                lastUsedAt: row.decode(column: "last_used_at", as: Int64.self),
                grantTag: postgres ? nil : row.decode(column: "grant_tag", as: String.self))
            if let refusal = check(family) { return (.refused(refusal), nil) }
            if try row.decode(column: "revoked_at", as: Int64?.self) != nil { return (.revoked, nil) }
            if now > family.createdAt + policy.absolute || now > family.lastUsedAt + policy.inactivity {
                _ = try await Self.revokeFamily(
                    family.familyID, nowMilliseconds: nowMilliseconds, reason: "refresh expired",
                    postgres: postgres, in: database)
                return (.expired, nil)
            }
            let isReuse =
                switch standing {
                case .live: false
                case .retired(let rotatedAt): now - rotatedAt >= policy.reuseGrace
                case .retiredBefore: true
                }
            if isReuse {
                let revoked = try await Self.revokeFamily(
                    family.familyID, nowMilliseconds: nowMilliseconds,
                    reason: "refresh token reuse", postgres: postgres, in: database)
                return (.reuseDetected(revoked: revoked), nil)
            }
            // Only the newest token of a family works: retire every other one (within the grace
            // window a retry of the previous token is answered, and the successor it got is retired).
            let rows = try mint(family)
            if postgres {
                try await database.raw(Self.rotateStatement(family: family.familyID, rows: rows, now: now)).run()
            } else {
                // No token row (schema 10): the family's row learns when its newest token expires.
                try Self.requireTag(family.grantTag, on: rows.accessToken)
                try await database.raw(
                    Self.familyRotation(
                        family.familyID, to: rows.refreshTokenHash, from: standing, now: now,
                        tokenExpiresAt: rows.accessToken.expiresAt)
                ).run()
            }
            return (.rotated(family), rows)
        }
    }

    /// PostgreSQL: the presented token's row in `refresh_tokens`, joined to its family.
    static func presentedToken(
        _ digest: String, in database: any SQLDatabase
    ) async throws -> (any SQLRow, RefreshTokenStanding)? {
        guard
            let row = try await database.raw(
                """
                SELECT t.rotated_at, \(unsafeRaw: familyColumns)
                FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id
                WHERE t.token_hash = \(bind: digest)
                """
            ).first()
        else { return nil }
        let rotatedAt = try row.decode(column: "rotated_at", as: Int64?.self)
        return (row, rotatedAt.map { .retired(at: $0) } ?? .live)
    }

    /// SQLite (schema version 8): the family's row, found by the id the token names (by
    /// its `refresh_tokens` row for a token issued before), and where the token stands
    /// against the live and previous digests the row keeps.
    static func presentedToken(
        _ token: String, digest: String, inFamilyRowOf database: any SQLDatabase
    ) async throws -> (any SQLRow, RefreshTokenStanding)? {
        let columns = "\(familyColumns), f.live_hash, f.previous_hash, f.previous_rotated_at, f.grant_tag"
        let query: SQLQueryString =
            if let family = RefreshToken.family(of: token) {
                "SELECT \(unsafeRaw: columns) FROM refresh_families f WHERE f.family_id = \(bind: family)"
            } else {
                """
                SELECT \(unsafeRaw: columns) FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id
                WHERE t.token_hash = \(bind: digest)
                """
            }
        guard let row = try await database.raw(query).first() else { return nil }
        let standing = try RefreshTokenStanding(
            digest: digest, live: row.decode(column: "live_hash", as: String?.self),
            previous: row.decode(column: "previous_hash", as: String?.self),
            previousRotatedAt: row.decode(column: "previous_rotated_at", as: Int64?.self))
        return (row, standing)
    }

    /// SQLite: a rotation's write to the family's row. The live token becomes the previous
    /// one; a retry of the previous token within the grace keeps it previous (so a second
    /// retry works too) and retires the successor it got, which was never answered. The
    /// row keeps when the last access token of the grant expires (`tokenExpiresAt`, if later).
    static func familyRotation(
        _ family: String, to next: String?, from standing: RefreshTokenStanding, now: Int64, tokenExpiresAt: Int64
    ) -> SQLQueryString {
        let expiry: SQLQueryString = "tokens_expire_at = MAX(COALESCE(tokens_expire_at, 0), \(bind: tokenExpiresAt))"
        if standing == .live {
            return """
                UPDATE refresh_families SET previous_hash = live_hash, previous_rotated_at = \(bind: now),
                    live_hash = \(bind: next), last_used_at = \(bind: now), \(expiry)
                WHERE family_id = \(bind: family)
                """
        }
        return """
            UPDATE refresh_families SET live_hash = \(bind: next), last_used_at = \(bind: now), \(expiry)
            WHERE family_id = \(bind: family)
            """
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
