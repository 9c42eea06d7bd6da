import JWT
import SQLKit

/// An authorization code as the store keeps it (under the SHA-256 of the code).
public struct AuthorizationCodeRecord: Sendable, Equatable {
    /// The grant the code starts: its access and refresh tokens carry this id, so
    /// a replayed code or a revoked grant revokes them all.
    public let familyID: String
    public let appKey: String
    public let clientID: String
    public let accountId: String
    public let redirectURI: String
    public let scopes: [String]
    /// The PKCE `code_challenge` (S256), if the client sent one.
    public let codeChallenge: String?
    public let expiresAt: Int64
    /// The tag the grant's access tokens must carry (`AccessToken.grantTag`): chosen by the
    /// store when the code is redeemed on SQLite; nil before, and on PostgreSQL.
    public let grantTag: String?

    public init(
        familyID: String, appKey: String, clientID: String, accountId: String, redirectURI: String,
        scopes: [String], codeChallenge: String?, expiresAt: Int64, grantTag: String? = nil
    ) {
        self.familyID = familyID
        self.appKey = appKey
        self.clientID = clientID
        self.accountId = accountId
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.codeChallenge = codeChallenge
        self.expiresAt = expiresAt
        self.grantTag = grantTag
    }

    /// This record with the grant's tag.
    func tagged(_ tag: String) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord(
            familyID: familyID, appKey: appKey, clientID: clientID, accountId: accountId, redirectURI: redirectURI,
            scopes: scopes, codeChallenge: codeChallenge, expiresAt: expiresAt, grantTag: tag)
    }

    init(row: any SQLRow) throws {
        self.init(
            familyID: try row.decode(column: "family_id", as: String.self),
            appKey: try row.decode(column: "app_key", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            accountId: try row.decode(column: "account_id", as: String.self),
            redirectURI: try row.decode(column: "redirect_uri", as: String.self),
            scopes: try row.decode(column: "scope", as: String.self).split(separator: " ").map(String.init),
            codeChallenge: try row.decode(column: "code_challenge", as: String?.self),
            expiresAt: try row.decode(column: "expires_at", as: Int64.self))
    }
}

/// The tokens one grant step writes: the access token, and a refresh token
/// (its SHA-256) when `offline_access` was granted.
public struct GrantRows: Sendable {
    public let accessToken: AccessToken
    public let refreshTokenHash: String?

    public init(accessToken: AccessToken, refreshTokenHash: String?) {
        self.accessToken = accessToken
        self.refreshTokenHash = refreshTokenHash
    }
}

/// What presenting a code came to.
public enum CodeRedemption: Sendable {
    /// First use: the code is spent and the rows are written.
    case issued(AuthorizationCodeRecord)
    /// A second use: every token from the code is now revoked (docs/gateway.md §8).
    case replayed(revoked: [Revocation])
    case expired
    case unknown
    /// `check` refused it (wrong client, redirect URI or verifier): nothing was written.
    case refused(OAuthError)
}

extension Store {
    static let codeColumns =
        "family_id, app_key, client_id, account_id, redirect_uri, scope, code_challenge, expires_at"

    public func insertCode(_ code: String, _ record: AuthorizationCodeRecord) async throws(StoreError) {
        try await session("keep the authorization code") { database in
            try await database.raw(
                """
                INSERT INTO authorization_codes (code_hash, family_id, app_key, client_id, account_id, redirect_uri, scope,
                                                 code_challenge, expires_at)
                VALUES (\(bind: SecretDigest.hex(code)), \(bind: record.familyID), \(bind: record.appKey),
                        \(bind: record.clientID), \(bind: record.accountId), \(bind: record.redirectURI),
                        \(bind: record.scopes.joined(separator: " ")), \(bind: record.codeChallenge), \(bind: record.expiresAt))
                """
            ).run()
        }
    }

    /// Spends a code in one transaction: `check` may refuse it (wrong client,
    /// redirect URI or PKCE verifier: nothing is written), then `mint` makes the
    /// tokens whose rows are written with the code marked used. Of two racing
    /// uses one is issued and the other is a replay.
    public func redeemCode(
        _ code: String, now: Int64 = UnixTime.now(),
        check: @escaping @Sendable (AuthorizationCodeRecord) -> OAuthError?,
        mint: @escaping @Sendable (AuthorizationCodeRecord) throws -> GrantRows
    ) async throws -> (CodeRedemption, GrantRows?) {
        let hash = SecretDigest.hex(code)
        let nowMilliseconds = UnixMilliseconds.now()
        if isPostgres {
            return try await transaction("redeem the authorization code") { database in
                guard let row = try await database.raw(Self.codeQuery(hash)).first() else { return (.unknown, nil) }
                let record = try AuthorizationCodeRecord(row: row)
                if let refused = try await Self.unspendable(
                    record, row: row, now: now, nowMilliseconds, postgres: true, in: database)
                {
                    return (refused, nil)
                }
                if let refusal = check(record) { return (.refused(refusal), nil) }
                let rows = try mint(record)
                let spent = try await database.raw(
                    Self.redeemStatement(hash: hash, record: record, rows: rows, now: now)
                ).all()
                return spent.isEmpty ? (.replayed(revoked: []), nil) : (.issued(record), rows)
            }
        }
        let tag = SecureRandom.identifier()
        return try await transaction("redeem the authorization code") { database in
            // The code is marked used first, and its row comes back from that one statement:
            // a refusal by `check` rolls the mark back (`RolledBack`), and a code the statement
            // did not mark (unknown, spent or expired) is read to say which (docs/grants.md,
            // "Transactions").
            guard
                let row = try await database.raw(
                    """
                    UPDATE authorization_codes SET used_at = \(bind: now)
                    WHERE code_hash = \(bind: hash) AND used_at IS NULL AND expires_at >= \(bind: now)
                    RETURNING \(unsafeRaw: Self.codeColumns)
                    """
                ).all().first
            else {
                guard let row = try await database.raw(Self.codeQuery(hash)).first() else { return (.unknown, nil) }
                let record = try AuthorizationCodeRecord(row: row)
                let refused = try await Self.unspendable(
                    record, row: row, now: now, nowMilliseconds, postgres: false, in: database)
                return (refused ?? .replayed(revoked: []), nil)
            }
            let record = try AuthorizationCodeRecord(row: row).tagged(tag)
            if let refusal = check(record) {
                throw RolledBack(answer: (CodeRedemption.refused(refusal), GrantRows?.none))
            }
            let rows = try mint(record)
            try Self.requireTag(tag, on: rows.accessToken)
            // The family's row is the grant's one row (schema version 10): it keeps the live refresh
            // token (schema 8), and the tag its access tokens carry, with when the last of them
            // expires, instead of their rows. It is written without a refresh token too.
            try await database.raw(
                """
                INSERT INTO refresh_families (family_id, app_key, client_id, account_id, scope, created_at, last_used_at,
                                              live_hash, grant_tag, tokens_expire_at)
                VALUES (\(bind: record.familyID), \(bind: record.appKey), \(bind: record.clientID), \(bind: record.accountId),
                        \(bind: rows.accessToken.scopes.joined(separator: " ")), \(bind: now), \(bind: now),
                        \(bind: rows.refreshTokenHash), \(bind: tag), \(bind: rows.accessToken.expiresAt))
                """
            ).run()
            return (.issued(record), rows)
        }
    }

    /// The code's row and whether it was used.
    static func codeQuery(_ hash: String) -> SQLQueryString {
        "SELECT \(unsafeRaw: codeColumns), used_at FROM authorization_codes WHERE code_hash = \(bind: hash)"
    }

    /// Why a code's row cannot be spent, or nil when it can: a code used before is a replay
    /// (its grant's tokens are revoked now), a code past its expiry is expired.
    static func unspendable(
        _ record: AuthorizationCodeRecord, row: any SQLRow, now: Int64, _ nowMilliseconds: Int64, postgres: Bool,
        in database: any SQLDatabase
    ) async throws -> CodeRedemption? {
        if try row.decode(column: "used_at", as: Int64?.self) != nil {
            let revoked = try await revokeFamily(
                record.familyID, nowMilliseconds: nowMilliseconds, reason: "code replay", postgres: postgres,
                in: database)
            return .replayed(revoked: revoked)
        }
        return record.expiresAt >= now ? nil : .expired
    }

    /// On PostgreSQL, a code's spending and its grant's rows in one statement, one round
    /// trip instead of four: the code is marked used, and the token, family and refresh
    /// token rows are inserted only from the row that marking returned, so a code spent
    /// meanwhile writes nothing and returns no row (docs/grants.md, "Transactions").
    static func redeemStatement(
        hash: String, record: AuthorizationCodeRecord, rows: GrantRows, now: Int64
    )
        -> SQLQueryString
    {
        let spend: SQLQueryString = """
            WITH spent AS (
                UPDATE authorization_codes SET used_at = \(bind: now) WHERE code_hash = \(bind: hash) AND used_at IS NULL
                RETURNING code_hash),
            token AS (\(insertStatement(rows.accessToken, family: record.familyID, from: "spent")))
            """
        guard let refresh = rows.refreshTokenHash else { return spend + " SELECT token_id FROM token" }
        return spend + """
            , family AS (
                INSERT INTO refresh_families (family_id, app_key, client_id, account_id, scope, created_at, last_used_at)
                SELECT \(bind: record.familyID), \(bind: record.appKey), \(bind: record.clientID), \(bind: record.accountId),
                       \(bind: rows.accessToken.scopes.joined(separator: " ")), \(bind: now), \(bind: now) FROM spent
                RETURNING family_id)
            INSERT INTO refresh_tokens (token_hash, family_id, issued_at)
            SELECT \(bind: refresh), family_id, \(bind: now) FROM family RETURNING token_hash
            """
    }

    /// Revokes a grant family inside a transaction: its refresh tokens stop
    /// working and every access token from it is revoked. Returns the access tokens revoked now.
    ///
    /// On SQLite the grant's tag is revoked, which refuses every token that carries it
    /// (schema 10), beside the rows of tokens issued before them.
    static func revokeFamily(
        _ family: String, nowMilliseconds: Int64, reason: String, postgres: Bool, in database: any SQLDatabase
    ) async throws -> [Revocation] {
        try await database.raw(
            """
            UPDATE refresh_families SET revoked_at = \(bind: nowMilliseconds / 1000)
            WHERE family_id = \(bind: family) AND revoked_at IS NULL
            """
        ).run()
        let rows = try await database.raw(
            """
            INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
            SELECT token_id, expires_at, \(bind: nowMilliseconds), \(bind: reason) FROM access_tokens
            WHERE family_id = \(bind: family)
            ON CONFLICT (token_id) DO NOTHING RETURNING token_id, expires_at
            """
        ).all().map(Revocation.init(row:))
        if postgres { return rows }
        return try await rows
            + revokeGrantTags(
                of: "family_id = \(bind: family) AND tokens_expire_at IS NOT NULL", reason: reason,
                nowMilliseconds: nowMilliseconds, in: database)
    }

    /// SQLite (schema 10): revokes the tags of the 3LO grants `families` selects from
    /// `refresh_families`, which refuses every access token carrying one (docs/grants.md,
    /// "Grant tags"). Returns the revocations made now.
    static func revokeGrantTags(
        of families: SQLQueryString, reason: String, nowMilliseconds: Int64, in database: any SQLDatabase
    ) async throws -> [Revocation] {
        try await database.raw(
            """
            INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
            SELECT \(bind: RevokedCredential.grantPrefix) || grant_tag, tokens_expire_at, \(bind: nowMilliseconds),
                   \(bind: reason)
            FROM refresh_families WHERE \(families)
            ON CONFLICT (token_id) DO NOTHING RETURNING token_id, expires_at
            """
        ).all().map(Revocation.init(row:))
    }

    /// SQLite: a 3LO access token must carry its grant's tag, or revoking the grant would
    /// miss it; nothing is written then.
    static func requireTag(_ tag: String?, on token: AccessToken) throws(StoreError) {
        guard let tag, token.grantTag == tag else {
            throw StoreError(
                .query, "a 3LO access token must carry its grant's tag (grant_tag); nothing was recorded")
        }
    }
}
