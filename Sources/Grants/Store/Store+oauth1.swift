import JWT
import SQLKit

/// An OAuth 1.0a token as the store keeps it (the token and its secret as SHA-256 only).
public struct OAuth1TokenRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, access }

    public let kind: Kind
    public let consumerKey: String
    public let appKey: String
    /// The approving user (request tokens once authorized; access tokens always).
    public let accountId: String?
    /// Request tokens: where the user goes after approving (`oob`: the verifier is shown).
    public let callback: String?
    public let denied: Bool
    public let createdAt: Int64
    public let expiresAt: Int64
    /// Access tokens: until when the session handle can renew them.
    public let sessionExpiresAt: Int64?
    public let revoked: Bool

    init(row: any SQLRow) throws {
        kind = Kind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .request
        consumerKey = try row.decode(column: "consumer_key", as: String.self)
        appKey = try row.decode(column: "app_key", as: String.self)
        accountId = try row.decode(column: "account_id", as: String?.self)
        callback = try row.decode(column: "callback", as: String?.self)
        denied = try row.decode(column: "denied", as: Int.self) != 0
        createdAt = try row.decode(column: "created_at", as: Int64.self)
        expiresAt = try row.decode(column: "expires_at", as: Int64.self)
        sessionExpiresAt = try row.decode(column: "session_expires_at", as: Int64?.self)
        revoked = try row.decode(column: "revoked_at", as: Int64?.self) != nil
    }
}

/// A new access token for the access-token endpoint's reply.
public struct OAuth1AccessGrant: Sendable {
    public let token: String
    public let secret: String
    public let sessionHandle: String
    public let expiresAt: Int64
    public let sessionExpiresAt: Int64
    public let accountId: String

    public init(
        token: String, secret: String, sessionHandle: String, expiresAt: Int64, sessionExpiresAt: Int64,
        accountId: String
    ) {
        self.token = token
        self.secret = secret
        self.sessionHandle = sessionHandle
        self.expiresAt = expiresAt
        self.sessionExpiresAt = sessionExpiresAt
        self.accountId = accountId
    }
}

extension Store {
    static let oauth1Columns = """
        kind, consumer_key, app_key, account_id, callback, denied, created_at, expires_at, session_expires_at, revoked_at
        """

    /// Records `(consumer, token, timestamp, nonce)` once; false when it was seen before.
    public func recordNonce(_ key: String, expiresAt: Int64) async throws(StoreError) -> Bool {
        let digest = NonceDigest(key: key)
        return try await recordNonceDigests([(digest, expiresAt)]).contains(digest)
    }

    /// Records nonce keys already digested (`NonceDigest`); returns the digests that were
    /// new. Of two racing copies of a key, here or on another gateway, exactly one is
    /// returned. In a transaction, so that a nonce reported new is committed before the
    /// request is answered (docs/grants.md, "Transactions").
    ///
    /// PostgreSQL inserts them into `oauth1_nonces` in one statement, whose primary key
    /// decides; the rows go in sorted by digest, so two gateways inserting overlapping
    /// batches at once take the keys' locks in the same order and cannot deadlock (each
    /// would wait for the other's uncommitted row). SQLite appends them to its nonce log
    /// instead (`recordInLog`).
    public func recordNonceDigests(
        _ nonces: [(digest: NonceDigest, expiresAt: Int64)]
    ) async throws(StoreError) -> Set<NonceDigest> {
        guard !nonces.isEmpty else { return [] }
        var ordered: [(digest: NonceDigest, expiresAt: Int64)] = []
        var included: Set<NonceDigest> = []
        for nonce in nonces.sorted(by: { $0.digest < $1.digest }) where included.insert(nonce.digest).inserted {
            ordered.append(nonce)
        }
        guard isPostgres else {
            let view = nonceLog
            let batch = ordered
            let outcome = try await transaction("record the nonces") { database in
                try Self.recordInLog(batch, view: view, on: try SQLiteHandle.of(database))
            }
            view.apply(outcome.rows, floor: outcome.floor, through: outcome.last)
            return outcome.recorded
        }
        let rows = ordered.map { "(\(bind: $0.digest.hex), \(bind: $0.expiresAt))" as SQLQueryString }
            .joined(separator: ", ")
        return try await transaction("record the nonces") { database in
            Set(
                try await database.raw(
                    """
                    INSERT INTO oauth1_nonces (nonce_key, expires_at) VALUES \(rows)
                    ON CONFLICT DO NOTHING RETURNING nonce_key
                    """
                ).all().compactMap { NonceDigest(hex: try $0.decode(column: "nonce_key", as: String.self)) })
        }
    }

    /// How many rows SQLite's nonce log holds before the first transaction of a newer second
    /// merges it into `oauth1_nonces`; past eight times as many it is merged at once.
    static let nonceLogMerge: Int64 = 4096

    /// What a transaction on SQLite's nonce log found and did.
    struct NonceLogOutcome: Sendable {
        /// The digests that were new, now in the log.
        var recorded: Set<NonceDigest> = []
        /// The log's rows it read or wrote that stay in the log.
        var rows: [(sequence: Int64, digest: NonceDigest, expiresAt: Int64)] = []
        /// The log's rows are those from this sequence number on.
        var floor: Int64 = .max
        /// The highest sequence number it saw.
        var last: Int64 = 0
    }

    /// SQLite (docs/links.md, "Nonces"): a new nonce is appended to `oauth1_nonce_log`,
    /// whose rows are in arrival order, so a batch writes the log's last page or two,
    /// where a key ordered by digest would have it write a page a nonce. Write
    /// transactions take turns on SQLite, among processes too, and each one decides
    /// from everything committed before it: the log's rows past what this gateway has
    /// seen (read here), the rows it has seen (`NonceLogView`), and the older nonces,
    /// which a merge moved into `oauth1_nonces`, looked up by their key. Once the log
    /// holds `nonceLogMerge` rows, the first transaction with a nonce of a later second
    /// than the log's last moves them all into `oauth1_nonces` before it adds its own:
    /// the nonces of the second under way are then later than every merged one, and
    /// need no lookup there.
    static func recordInLog(
        _ nonces: [(digest: NonceDigest, expiresAt: Int64)], view: NonceLogView, on handle: SQLiteHandle
    ) throws -> NonceLogOutcome {
        var outcome = NonceLogOutcome()
        outcome.last = view.lastSequence
        try readLog(after: outcome.last, into: &outcome, on: handle)
        let inLog = Set(outcome.rows.map(\.digest))
        let bounds = try logBounds(on: handle)
        var floor = bounds?.first
        if let bounds, bounds.rows >= nonceLogMerge,
            bounds.lastExpiry < nonces.map(\.expiresAt).max() ?? .min || bounds.rows >= 8 * nonceLogMerge
        {
            try mergeLog(on: handle)
            outcome.rows = []
            floor = nil
        }
        var newestMerged: Int64?
        try handle.query("SELECT MAX(expires_at) FROM oauth1_nonces", []) { row in
            if case .integer(let expiresAt) = row.values[0] { newestMerged = Int64(expiresAt) }
        }
        let seen = view.spent(among: nonces.map(\.digest))
        for nonce in nonces where !inLog.contains(nonce.digest) && !seen.contains(nonce.digest) {
            let hex = nonce.digest.hex
            if let newestMerged, nonce.expiresAt <= newestMerged {
                var merged = false
                try handle.query(
                    "SELECT 1 FROM oauth1_nonces WHERE expires_at = ?1 AND nonce_key = ?2",
                    [.integer(Int(nonce.expiresAt)), .text(hex)]
                ) { _ in merged = true }
                guard !merged else { continue }
            }
            try handle.query(
                "INSERT INTO oauth1_nonce_log (expires_at, nonce_key) VALUES (?1, ?2)",
                [.integer(Int(nonce.expiresAt)), .text(hex)])
            let sequence = handle.lastInsertRowID
            floor = floor ?? sequence
            outcome.recorded.insert(nonce.digest)
            outcome.rows.append((sequence, nonce.digest, nonce.expiresAt))
            outcome.last = max(outcome.last, sequence)
        }
        // An empty log says every row seen before was merged.
        outcome.floor = floor ?? .max
        return outcome
    }

    /// Adds the log's rows past sequence number `last` (other gateways' nonces since) to `outcome`.
    private static func readLog(after last: Int64, into outcome: inout NonceLogOutcome, on handle: SQLiteHandle) throws
    {
        var rows: [(sequence: Int64, digest: NonceDigest, expiresAt: Int64)] = []
        var highest = last
        try handle.query(
            "SELECT seq, nonce_key, expires_at FROM oauth1_nonce_log WHERE seq > ?1 ORDER BY seq", [.integer(Int(last))]
        ) { row in
            guard case .integer(let sequence) = row.values[0] else { return }
            highest = max(highest, Int64(sequence))
            // A row that holds no digest matches no nonce, so it is passed over.
            guard case .text(let hex) = row.values[1], let digest = NonceDigest(hex: hex),
                case .integer(let expiresAt) = row.values[2]
            else { return }
            rows.append((Int64(sequence), digest, Int64(expiresAt)))
        }
        outcome.rows += rows
        outcome.last = max(outcome.last, highest)
    }

    /// The log's first sequence number, how many numbers it spans, and the expiry of its last row; nil when empty.
    private static func logBounds(on handle: SQLiteHandle) throws -> (first: Int64, rows: Int64, lastExpiry: Int64)? {
        var bounds: (first: Int64, rows: Int64, lastExpiry: Int64)?
        try handle.query(logBoundsQuery, []) { row in
            guard case .integer(let first) = row.values[0], case .integer(let last) = row.values[1],
                case .integer(let lastExpiry) = row.values[2]
            else { return }
            bounds = (Int64(first), Int64(last - first + 1), Int64(lastExpiry))
        }
        return bounds
    }

    /// Three subqueries, each one seek: `MIN` and `MAX` in one query would read the whole log.
    static let logBoundsQuery = """
        SELECT (SELECT MIN(seq) FROM oauth1_nonce_log), (SELECT MAX(seq) FROM oauth1_nonce_log),
            (SELECT expires_at FROM oauth1_nonce_log WHERE seq = (SELECT MAX(seq) FROM oauth1_nonce_log))
        """

    /// Moves the whole log into `oauth1_nonces`, in that table's key order.
    private static func mergeLog(on handle: SQLiteHandle) throws {
        try handle.query(
            """
            INSERT INTO oauth1_nonces (expires_at, nonce_key) SELECT expires_at, nonce_key FROM oauth1_nonce_log
            WHERE true ORDER BY expires_at, nonce_key ON CONFLICT DO NOTHING
            """, [])
        try handle.query("DELETE FROM oauth1_nonce_log", [])
    }

    public func createRequestToken(
        _ token: String, secret: String, consumerKey: String, appKey: String, callback: String,
        expiresAt: Int64
    ) async throws(StoreError) {
        let now = UnixTime.now()
        try await session("keep the request token") { database in
            try await database.raw(
                """
                INSERT INTO oauth1_tokens (token_hash, kind, consumer_key, app_key, secret_hash, callback, denied, created_at,
                                           expires_at)
                VALUES (\(bind: SecretDigest.hex(token)), 'request', \(bind: consumerKey), \(bind: appKey),
                        \(bind: SecretDigest.hex(secret)), \(bind: callback), 0, \(bind: now), \(bind: expiresAt))
                """
            ).run()
        }
    }

    public func oauth1Token(_ token: String) async throws(StoreError) -> OAuth1TokenRecord? {
        try await read("read the OAuth 1.0a token") { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.oauth1Columns) FROM oauth1_tokens WHERE token_hash = \(bind: SecretDigest.hex(token))
                """
            ).first().map(OAuth1TokenRecord.init(row:))
        }
    }

    /// The user's decision on a request token not decided before; false when it was
    /// unknown, expired, or already decided.
    public func decideRequestToken(
        _ token: String, accountId: String, verifier: String?, now: Int64 = UnixTime.now()
    ) async throws(StoreError) -> Bool {
        try await session("record the approval") { database in
            !(try await database.raw(
                """
                UPDATE oauth1_tokens SET account_id = \(bind: accountId), verifier_hash = \(bind: verifier.map(SecretDigest.hex)),
                       denied = \(bind: verifier == nil ? 1 : 0)
                WHERE token_hash = \(bind: SecretDigest.hex(token)) AND kind = 'request' AND account_id IS NULL
                  AND expires_at > \(bind: now)
                RETURNING token_hash
                """
            ).all().isEmpty)
        }
    }

    /// Trades an authorized request token and its verifier for an access token, in
    /// one transaction: the request token is spent whatever the outcome once the
    /// verifier is presented, so a verifier cannot be guessed twice.
    public func exchangeRequestToken(
        _ token: String, consumerKey: String, verifier: String, grant: OAuth1AccessGrant,
        now: Int64 = UnixTime.now()
    ) async throws(StoreError) -> OAuth1Problem? {
        let hash = SecretDigest.hex(token)
        return try await transaction("issue the access token") { database in
            guard
                let row = try await database.raw(
                    """
                    SELECT \(unsafeRaw: Self.oauth1Columns), verifier_hash FROM oauth1_tokens
                    WHERE token_hash = \(bind: hash) AND kind = 'request'
                    """
                ).first()
            else { return OAuth1Problem(.tokenRejected, "the request token is not one this site issued") }
            let record = try OAuth1TokenRecord(row: row)
            guard record.consumerKey == consumerKey else {
                return OAuth1Problem(.tokenRejected, "the request token was issued to another consumer")
            }
            guard record.expiresAt > now else { return OAuth1Problem(.tokenExpired, "the request token has expired") }
            if record.denied { return OAuth1Problem(.userRefused, "the user denied access") }
            guard let expected = try row.decode(column: "verifier_hash", as: String?.self),
                let accountId = record.accountId
            else {
                return OAuth1Problem(.permissionDenied, "the request token has not been authorized by a user")
            }
            try await database.raw("DELETE FROM oauth1_tokens WHERE token_hash = \(bind: hash)").run()
            guard ConstantTime.equals(SecretDigest.hex(verifier), expected) else {
                return OAuth1Problem(
                    .permissionDenied, "the oauth_verifier does not match; start again with a new request token")
            }
            try await Self.insertAccessToken(
                grant, consumerKey: consumerKey, appKey: record.appKey, accountId: accountId,
                into: database, now: now)
            return nil
        }
    }

    /// Renews an access token with its session handle (docs/protocols.md §6): the old token
    /// is retired and a new one, on the same session, takes its place.
    public func renewAccessToken(
        _ token: String, sessionHandle: String, consumerKey: String,
        makeGrant: @escaping @Sendable (_ accountId: String, _ sessionExpiresAt: Int64) -> OAuth1AccessGrant,
        now: Int64 = UnixTime.now()
    ) async throws(StoreError) -> Result<OAuth1AccessGrant, OAuth1Problem> {
        let hash = SecretDigest.hex(token)
        return try await transaction("renew the access token") { database in
            guard
                let row = try await database.raw(
                    """
                    SELECT \(unsafeRaw: Self.oauth1Columns), session_hash FROM oauth1_tokens
                    WHERE token_hash = \(bind: hash) AND kind = 'access'
                    """
                ).first()
            else { return .failure(OAuth1Problem(.tokenRejected, "the access token is not one this site issued")) }
            let record = try OAuth1TokenRecord(row: row)
            guard record.consumerKey == consumerKey else {
                return .failure(OAuth1Problem(.tokenRejected, "the access token was issued to another consumer"))
            }
            guard !record.revoked else {
                return .failure(OAuth1Problem(.tokenRevoked, "the access token has been revoked"))
            }
            guard let stored = try row.decode(column: "session_hash", as: String?.self),
                ConstantTime.equals(SecretDigest.hex(sessionHandle), stored)
            else {
                return .failure(OAuth1Problem(.tokenRejected, "the oauth_session_handle does not belong to this token"))
            }
            guard let sessionEnd = record.sessionExpiresAt, sessionEnd > now, let accountId = record.accountId else {
                return .failure(OAuth1Problem(.tokenExpired, "the session has ended; authorize again"))
            }
            try await database.raw(
                "UPDATE oauth1_tokens SET revoked_at = \(bind: now) WHERE token_hash = \(bind: hash)"
            ).run()
            try await Self.listRevocation(
                of: RevokedCredential.oauth1Prefix + hash, expiresAt: record.expiresAt, reason: "renewed",
                into: database)
            let grant = makeGrant(accountId, sessionEnd)
            try await Self.insertAccessToken(
                grant, consumerKey: consumerKey, appKey: record.appKey, accountId: accountId,
                into: database, now: now)
            return .success(grant)
        }
    }

    /// The user's live application-link access tokens, by app.
    public func oauth1Grants(
        accountId: String, now: Int64 = UnixTime.now()
    ) async throws(StoreError) -> [OAuth1TokenRecord] {
        try await read("read application-link tokens") { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.oauth1Columns) FROM oauth1_tokens
                WHERE account_id = \(bind: accountId) AND kind = 'access' AND revoked_at IS NULL
                  AND session_expires_at > \(bind: now)
                ORDER BY app_key, created_at
                """
            ).all().map(OAuth1TokenRecord.init(row:))
        }
    }

    /// Revokes every application-link access token of the app for the user; returns how many.
    public func revokeOAuth1(accountId: String, appKey: String) async throws(StoreError) -> Int {
        try await revokeOAuth1Tokens(accountId: accountId, appKey: appKey).count
    }

    /// Revokes every application-link access token of the app for the user, and lists each
    /// in the revocation list (`RevokedCredential`) in the same transaction; returns those
    /// revocations, for the calling gateway to apply at once.
    public func revokeOAuth1Tokens(accountId: String, appKey: String) async throws(StoreError) -> [Revocation] {
        let now = UnixTime.now()
        let milliseconds = UnixMilliseconds.now()
        return try await transaction("revoke application-link tokens") { database in
            try await database.raw(
                """
                INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
                SELECT \(bind: RevokedCredential.oauth1Prefix) || token_hash, expires_at, \(bind: milliseconds), 'account page'
                FROM oauth1_tokens
                WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey) AND kind = 'access' AND revoked_at IS NULL
                ON CONFLICT (token_id) DO NOTHING
                """
            ).run()
            return try await database.raw(
                """
                UPDATE oauth1_tokens SET revoked_at = \(bind: now)
                WHERE account_id = \(bind: accountId) AND app_key = \(bind: appKey) AND kind = 'access' AND revoked_at IS NULL
                RETURNING token_hash, expires_at
                """
            ).all().map {
                Revocation(
                    tokenID: RevokedCredential.oauth1Prefix + (try $0.decode(column: "token_hash", as: String.self)),
                    expiresAt: try $0.decode(column: "expires_at", as: Int64.self))
            }
        }
    }

    /// Puts one credential in the revocation list, inside the caller's transaction.
    static func listRevocation(
        of name: String, expiresAt: Int64, reason: String, into database: any SQLDatabase
    ) async throws {
        try await database.raw(
            """
            INSERT INTO revoked_tokens (token_id, expires_at, revoked_at_ms, reason)
            VALUES (\(bind: name), \(bind: expiresAt), \(bind: UnixMilliseconds.now()), \(bind: reason))
            ON CONFLICT (token_id) DO NOTHING
            """
        ).run()
    }

    private static func insertAccessToken(
        _ grant: OAuth1AccessGrant, consumerKey: String, appKey: String, accountId: String,
        into database: any SQLDatabase, now: Int64
    ) async throws {
        try await database.raw(
            """
            INSERT INTO oauth1_tokens (token_hash, kind, consumer_key, app_key, secret_hash, account_id, denied, session_hash,
                                       created_at, expires_at, session_expires_at)
            VALUES (\(bind: SecretDigest.hex(grant.token)), 'access', \(bind: consumerKey), \(bind: appKey),
                    \(bind: SecretDigest.hex(grant.secret)), \(bind: accountId), 0, \(bind: SecretDigest.hex(grant.sessionHandle)),
                    \(bind: now), \(bind: grant.expiresAt), \(bind: grant.sessionExpiresAt))
            """
        ).run()
    }
}
