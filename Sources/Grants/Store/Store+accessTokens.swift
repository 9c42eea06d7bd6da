import JWT
import SQLKit

extension Store {
    /// Records a JWT bearer exchange: spends the assertion and records the issued
    /// token at once. Returns false, and writes nothing, when the assertion was
    /// spent already — so of two racing requests with one assertion exactly one gets
    /// a token. The token's `jti` must be `AccessToken.exchangedTokenID(replayKey:)`.
    ///
    /// On SQLite the token row is the only row: its key, derived from the replay key,
    /// refuses a second use, and replay rows written by versions before schema 7 are
    /// still consulted. On PostgreSQL a replay row is written beside it, as gateways of
    /// earlier versions sharing the database expect (docs/grants.md, "Transactions").
    public func recordExchange(
        replayKey: String, replayExpiresAt: Int64, token: AccessToken
    ) async throws(StoreError) -> Bool {
        guard token.tokenID == AccessToken.exchangedTokenID(replayKey: replayKey) else {
            throw StoreError(
                .query, "an exchanged token's jti must be derived from its assertion's replay key; nothing was recorded"
            )
        }
        if isPostgres {
            // One statement: the token row is inserted only from the replay row this statement
            // inserted. Inside BEGIN … COMMIT all the same: on its own, a statement's rows reach
            // the client before its implicit commit (at the protocol's Sync), so a server that
            // dies in between would lose a token already answered; COMMIT answers only once the
            // commit is durable (docs/grants.md, "Transactions").
            return try await transaction("record the token exchange") { database in
                !(try await database.raw(
                    """
                    WITH replay AS (
                        INSERT INTO assertion_replays (replay_key, token_id, expires_at)
                        VALUES (\(bind: replayKey), \(bind: token.tokenID), \(bind: replayExpiresAt))
                        ON CONFLICT (replay_key) DO NOTHING RETURNING token_id)
                    \(Self.insertStatement(token, family: nil, from: "replay"))
                    """
                ).all().isEmpty)
            }
        }
        return try await transaction("record the token exchange") { database in
            !(try await database.raw(
                """
                INSERT INTO access_tokens (token_id, app_key, account_id, client_id, grant_type, scope, issued_at,
                                           expires_at, family_id)
                SELECT \(Self.values(token, family: nil))
                WHERE NOT EXISTS (SELECT 1 FROM assertion_replays WHERE replay_key = \(bind: replayKey))
                ON CONFLICT (token_id) DO NOTHING RETURNING token_id
                """
            ).all().isEmpty)
        }
    }

    /// Records an issued access token (grants without a replay key).
    public func recordIssued(_ token: AccessToken) async throws(StoreError) {
        try await session("record the access token") { try await Self.insert(token, into: $0) }
    }

    /// The recorded token with this `jti`, or nil (always for a 3LO token on SQLite from
    /// schema 10, which has no row: docs/grants.md, "Grant tags").
    public func issuedToken(id: String) async throws(StoreError) -> IssuedTokenRecord? {
        try await read("read an access token") { database in
            try await database.raw(
                """
                SELECT token_id, app_key, account_id, client_id, grant_type, scope, issued_at, expires_at
                FROM access_tokens WHERE token_id = \(bind: id)
                """
            ).first().map(IssuedTokenRecord.init(row:))
        }
    }

    /// How many issued tokens and spent assertions the store holds, and how many replay
    /// rows name no token (for tests). An assertion is spent by its replay row, or, on
    /// SQLite from schema 7 on, by the row of the token it was exchanged for.
    public func counts() async throws(StoreError) -> (accessTokens: Int, spentAssertions: Int, orphanReplays: Int) {
        try await read("count rows") { database in
            func count(_ query: SQLQueryString) async throws -> Int {
                try await database.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
            }
            return (
                try await count("SELECT COUNT(*) AS n FROM access_tokens"),
                try await count(
                    """
                    SELECT (SELECT COUNT(*) FROM assertion_replays)
                         + (SELECT COUNT(*) FROM access_tokens t WHERE t.grant_type = 'jwt-bearer'
                            AND NOT EXISTS (SELECT 1 FROM assertion_replays r WHERE r.token_id = t.token_id)) AS n
                    """),
                try await count(
                    """
                    SELECT COUNT(*) AS n FROM assertion_replays r
                    WHERE NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.token_id = r.token_id)
                    """)
            )
        }
    }

    /// - Parameter family: the authorization-code grant the token came from (its code and refresh tokens).
    static func insert(_ token: AccessToken, family: String? = nil, into database: any SQLDatabase) async throws {
        try await database.raw(insertStatement(token, family: family, from: nil)).run()
    }

    /// The `INSERT` of a token row; with `source`, one row for each row of that table (none when it is empty).
    static func insertStatement(_ token: AccessToken, family: String?, from source: String?) -> SQLQueryString {
        let values = values(token, family: family)
        let rows: SQLQueryString =
            if let source { "SELECT \(values) FROM \(ident: source)" } else { "VALUES (\(values))" }
        return """
            INSERT INTO access_tokens (token_id, app_key, account_id, client_id, grant_type, scope, issued_at, expires_at,
                                       family_id)
            \(rows) RETURNING token_id
            """
    }

    /// A token row's values, in the column order of `insertStatement`.
    static func values(_ token: AccessToken, family: String?) -> SQLQueryString {
        """
        \(bind: token.tokenID), \(bind: token.appKey), \(bind: token.subject), \(bind: token.clientID),
        \(bind: token.grant.rawValue), \(bind: token.scopes.joined(separator: " ")),
        \(bind: token.issuedAt), \(bind: token.expiresAt), \(bind: family)
        """
    }
}

/// An issued access token as the store keeps it: everything but the token.
public struct IssuedTokenRecord: Sendable, Equatable {
    public let tokenID: String
    public let appKey: String
    public let accountId: String
    public let clientID: String
    public let grant: String
    public let scopes: [String]
    public let issuedAt: Int64
    public let expiresAt: Int64

    init(row: any SQLRow) throws {
        tokenID = try row.decode(column: "token_id", as: String.self)
        appKey = try row.decode(column: "app_key", as: String.self)
        accountId = try row.decode(column: "account_id", as: String.self)
        clientID = try row.decode(column: "client_id", as: String.self)
        grant = try row.decode(column: "grant_type", as: String.self)
        scopes = try row.decode(column: "scope", as: String.self).split(separator: " ").map(String.init)
        issuedAt = try row.decode(column: "issued_at", as: Int64.self)
        expiresAt = try row.decode(column: "expires_at", as: Int64.self)
    }
}
