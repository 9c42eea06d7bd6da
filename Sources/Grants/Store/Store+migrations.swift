import Foundation
import JWT
import SQLKit

/// The schema, as numbered migrations applied in order at start and recorded in
/// `linkgate_schema`. A migration is never edited once released: add a new one.
extension Store {
    struct Migration: Sendable {
        let version: Int
        let statements: [String]
        /// What PostgreSQL runs instead, where the two databases part (nil: the same statements).
        var postgresStatements: [String]? = nil

        func statements(postgres: Bool) -> [String] {
            postgres ? postgresStatements ?? statements : statements
        }
    }

    /// `{id}` is the dialect's auto-incrementing key; `{bigint}` a 64-bit integer.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE signing_keys (
                    slot TEXT PRIMARY KEY, kid TEXT NOT NULL UNIQUE, algorithm TEXT NOT NULL,
                    private_key_pem TEXT NOT NULL, created_at {bigint} NOT NULL)
                """,
                """
                CREATE TABLE access_tokens (
                    token_id TEXT PRIMARY KEY, app_key TEXT NOT NULL, account_id TEXT NOT NULL, client_id TEXT NOT NULL,
                    grant_type TEXT NOT NULL, scope TEXT NOT NULL, issued_at {bigint} NOT NULL, expires_at {bigint} NOT NULL)
                """,
                "CREATE INDEX access_tokens_app ON access_tokens (app_key, expires_at)",
                "CREATE INDEX access_tokens_user ON access_tokens (account_id, expires_at)",
                "CREATE INDEX access_tokens_expiry ON access_tokens (expires_at)",
                "CREATE TABLE assertion_replays (replay_key TEXT PRIMARY KEY, token_id TEXT NOT NULL, expires_at {bigint} NOT NULL)",
                "CREATE INDEX assertion_replays_expiry ON assertion_replays (expires_at)",
                """
                CREATE TABLE revoked_tokens (
                    token_id TEXT PRIMARY KEY, expires_at {bigint} NOT NULL, revoked_at_ms {bigint} NOT NULL, reason TEXT NOT NULL)
                """,
                "CREATE INDEX revoked_tokens_time ON revoked_tokens (revoked_at_ms)",
                """
                CREATE TABLE audit (
                    id {id}, at_ms {bigint} NOT NULL, request_id TEXT NOT NULL, app_key TEXT, account_id TEXT,
                    credential TEXT NOT NULL, route TEXT, method TEXT NOT NULL, verdict TEXT NOT NULL,
                    reason TEXT NOT NULL, status INTEGER NOT NULL)
                """,
                "CREATE INDEX audit_time ON audit (at_ms)",
            ]),
        // 3LO: sessions, codes, consents, refresh token families; access tokens learn their grant.
        Migration(
            version: 2,
            statements: [
                "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE sessions (
                    id_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, csrf TEXT NOT NULL,
                    created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL)
                """,
                "CREATE INDEX sessions_expiry ON sessions (expires_at)",
                """
                CREATE TABLE authorization_codes (
                    code_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, app_key TEXT NOT NULL, client_id TEXT NOT NULL,
                    account_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, code_challenge TEXT,
                    expires_at {bigint} NOT NULL, used_at {bigint})
                """,
                "CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at)",
                """
                CREATE TABLE consents (
                    account_id TEXT NOT NULL, app_key TEXT NOT NULL, scope TEXT NOT NULL, granted_at {bigint} NOT NULL,
                    PRIMARY KEY (account_id, app_key))
                """,
                """
                CREATE TABLE refresh_families (
                    family_id TEXT PRIMARY KEY, app_key TEXT NOT NULL, client_id TEXT NOT NULL, account_id TEXT NOT NULL,
                    scope TEXT NOT NULL, created_at {bigint} NOT NULL, last_used_at {bigint} NOT NULL, revoked_at {bigint})
                """,
                "CREATE INDEX refresh_families_owner ON refresh_families (account_id, app_key)",
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, issued_at {bigint} NOT NULL, rotated_at {bigint})
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
                "ALTER TABLE access_tokens ADD COLUMN family_id TEXT",
                "CREATE INDEX access_tokens_family ON access_tokens (family_id)",
            ]),
        // Application links (OAuth 1.0a) and API tokens.
        Migration(
            version: 3,
            statements: [
                "CREATE TABLE oauth1_nonces (nonce_key TEXT PRIMARY KEY, expires_at {bigint} NOT NULL)",
                "CREATE INDEX oauth1_nonces_expiry ON oauth1_nonces (expires_at)",
                """
                CREATE TABLE oauth1_tokens (
                    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, consumer_key TEXT NOT NULL, app_key TEXT NOT NULL,
                    secret_hash TEXT NOT NULL, account_id TEXT, callback TEXT, verifier_hash TEXT, denied INTEGER NOT NULL,
                    session_hash TEXT, created_at {bigint} NOT NULL, expires_at {bigint} NOT NULL, session_expires_at {bigint},
                    revoked_at {bigint})
                """,
                "CREATE INDEX oauth1_tokens_owner ON oauth1_tokens (account_id, app_key)",
                "CREATE INDEX oauth1_tokens_expiry ON oauth1_tokens (expires_at)",
                """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, label TEXT NOT NULL,
                    created_at {bigint} NOT NULL, last_used_at {bigint}, revoked_at {bigint})
                """,
                "CREATE INDEX api_tokens_owner ON api_tokens (account_id)",
            ]),
        // A rotation retires its family's live refresh tokens: indexed by family among the
        // live ones only, so it finds them at once however long the family's chain has grown
        // (through the family's whole chain, it slowed down with every rotation).
        Migration(
            version: 4,
            statements: [
                "DROP INDEX refresh_tokens_family",
                "CREATE INDEX refresh_tokens_live ON refresh_tokens (family_id) WHERE rotated_at IS NULL",
            ]),
        // SQLite: OAuth 1.0a nonces in one B-tree ordered by expiry, then digest (docs/links.md,
        // "Nonces"). A nonce's expiry is its signed timestamp plus the window, so a replay has the
        // same pair and the key still refuses it. A new nonce dirties a page of one tree where it
        // dirtied pages of three (the rowid table, the digest's key, the expiry index), and the
        // prune walks the key. PostgreSQL keeps its table: a gateway of an older version that
        // started before the upgrade may still be inserting there with `ON CONFLICT (nonce_key)`.
        Migration(
            version: 5,
            statements: [
                """
                CREATE TABLE oauth1_nonces_by_expiry (
                    expires_at {bigint} NOT NULL, nonce_key TEXT NOT NULL, PRIMARY KEY (expires_at, nonce_key)
                ) WITHOUT ROWID
                """,
                "INSERT INTO oauth1_nonces_by_expiry (expires_at, nonce_key) SELECT expires_at, nonce_key FROM oauth1_nonces",
                "DROP TABLE oauth1_nonces",
                "ALTER TABLE oauth1_nonces_by_expiry RENAME TO oauth1_nonces",
            ],
            postgresStatements: []),
        // Only 3LO access tokens belong to a refresh family, and only they are looked up by it
        // (revoking a family): the others, the JWT bearer grant's above all, no longer write an
        // entry of NULL into the family index (docs/grants.md, "Transactions").
        Migration(
            version: 6,
            statements: [
                "DROP INDEX access_tokens_family",
                "CREATE INDEX access_tokens_family ON access_tokens (family_id) WHERE family_id IS NOT NULL",
            ]),
        // SQLite: a JWT bearer exchange writes the token row alone. Its `jti` is derived from
        // the assertion's replay key, so the row's key spends the assertion and no replay row
        // is written; the expiry index goes, and the prune finds expired tokens app by app
        // through the app index. Four B-trees written per exchange instead of eight
        // (docs/grants.md, "Transactions"). PostgreSQL keeps both: gateways of an older
        // version sharing the database still spend assertions by their replay rows.
        Migration(
            version: 7,
            statements: ["DROP INDEX access_tokens_expiry"],
            postgresStatements: []),
        // SQLite: a refresh family's row keeps the SHA-256 of its live refresh token and of the
        // one it retired last (with when), and a refresh token names its family
        // (`RefreshToken`), so a code exchange writes the family's row alone and a rotation
        // updates it in place: no token row, no index of live tokens (docs/grants.md,
        // "Refresh tokens"). `refresh_tokens` stays for the tokens issued before, found by
        // their digest and judged by the family's row as the new ones are. PostgreSQL keeps
        // its token rows: gateways of an older version sharing the database rotate there.
        Migration(
            version: 8,
            statements: [
                "ALTER TABLE refresh_families ADD COLUMN live_hash TEXT",
                "ALTER TABLE refresh_families ADD COLUMN previous_hash TEXT",
                "ALTER TABLE refresh_families ADD COLUMN previous_rotated_at {bigint}",
                """
                UPDATE refresh_families SET live_hash = (
                    SELECT t.token_hash FROM refresh_tokens t
                    WHERE t.family_id = refresh_families.family_id AND t.rotated_at IS NULL
                    ORDER BY t.issued_at DESC LIMIT 1)
                """,
                """
                UPDATE refresh_families SET (previous_hash, previous_rotated_at) = (
                    SELECT t.token_hash, t.rotated_at FROM refresh_tokens t
                    WHERE t.family_id = refresh_families.family_id AND t.rotated_at IS NOT NULL
                    ORDER BY t.rotated_at DESC LIMIT 1)
                """,
                "DROP INDEX refresh_tokens_live",
            ],
            postgresStatements: []),
        // SQLite: 3LO access tokens leave the app and user indexes. Every 3LO grant has a
        // family row (a code exchange without `offline_access` writes one too, with no live
        // token), and its tokens are found through it: by the family's owner index for a
        // user, by its family index for an app. Two B-trees fewer per code exchange and per
        // rotation; expired 3LO tokens are pruned oldest first, in the order they were
        // written (docs/grants.md, "Transactions"). The grants of earlier versions without a
        // family row get one here. PostgreSQL keeps both indexes whole.
        Migration(
            version: 9,
            statements: [
                """
                INSERT INTO refresh_families (family_id, app_key, client_id, account_id, scope, created_at, last_used_at)
                SELECT t.family_id, MIN(t.app_key), MIN(t.client_id), MIN(t.account_id), MIN(t.scope), MIN(t.issued_at),
                       MAX(t.issued_at)
                FROM access_tokens t
                WHERE t.family_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM refresh_families f WHERE f.family_id = t.family_id)
                GROUP BY t.family_id
                """,
                "DROP INDEX access_tokens_app",
                "DROP INDEX access_tokens_user",
                "CREATE INDEX access_tokens_app ON access_tokens (app_key, expires_at) WHERE family_id IS NULL",
                "CREATE INDEX access_tokens_user ON access_tokens (account_id, expires_at) WHERE family_id IS NULL",
            ],
            postgresStatements: []),
        // SQLite: 3LO access tokens have no rows. A grant's family row keeps a random tag that
        // its access tokens carry (`grant_tag`), and when the last of them expires; revoking the
        // grant revokes the tag, on the revocation list every gateway polls. A code exchange
        // writes the family's row alone (three B-trees fewer), a rotation updates it in place
        // (docs/grants.md, "Grant tags"). The families of earlier versions get a tag here; their
        // tokens issued before keep their rows and are revoked by them. PostgreSQL keeps its
        // token rows: gateways of an older version sharing the database check only `jti`s.
        Migration(
            version: 10,
            statements: [
                "ALTER TABLE refresh_families ADD COLUMN grant_tag TEXT",
                "ALTER TABLE refresh_families ADD COLUMN tokens_expire_at {bigint}",
                "UPDATE refresh_families SET grant_tag = lower(hex(randomblob(16)))",
            ],
            postgresStatements: []),
        // SQLite appends new OAuth 1.0a nonces to a log in arrival order and merges it into
        // `oauth1_nonces` now and then, instead of inserting each by its key: a page a batch
        // instead of a page a nonce (docs/links.md, "Nonces"). AUTOINCREMENT: a number is
        // never used twice, so a gateway reading the rows past the last it saw misses none.
        Migration(
            version: 11,
            statements: [
                """
                CREATE TABLE oauth1_nonce_log (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, expires_at INTEGER NOT NULL, nonce_key TEXT NOT NULL)
                """
            ],
            postgresStatements: []),
    ]

    /// Applies the migrations not applied yet, up to version `last` (nil: all of them).
    func migrate(through last: Int? = nil) async throws(StoreError) {
        let postgres = isPostgres
        let known = Self.migrations.last?.version ?? 0
        let target = last ?? known
        do {
            try await backend.session { database in
                try await database.raw(
                    "CREATE TABLE IF NOT EXISTS linkgate_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
                ).run()
            }
        } catch {
            throw StoreError(.migration, "the store's schema table could not be created: \(error)")
        }
        let applied: Int
        do {
            applied = try await transaction("migrate") { database in
                // Two gateways starting at once on one PostgreSQL: the second waits here for the first.
                if postgres { try await database.raw("LOCK TABLE linkgate_schema IN EXCLUSIVE MODE").run() }
                let current =
                    try await database.raw("SELECT COALESCE(MAX(version), 0) AS version FROM linkgate_schema")
                    .first()?.decode(column: "version", as: Int.self) ?? 0
                guard current <= known else { return current }
                for migration in Self.migrations where migration.version > current && migration.version <= target {
                    for statement in migration.statements(postgres: postgres) {
                        try await database.raw(SQLQueryString(Self.dialected(statement, postgres: postgres))).run()
                    }
                    try await database.raw(
                        "INSERT INTO linkgate_schema (version, applied_at) VALUES (\(bind: migration.version), \(bind: UnixTime.now()))"
                    ).run()
                }
                return current
            }
        } catch {
            throw StoreError(.migration, "the store's schema could not be brought up to date: \(error.message)")
        }
        guard applied <= known else {
            throw StoreError(
                .migration,
                "the store's schema is version \(applied), newer than this linkgate knows (\(known)); "
                    + "run a newer linkgate or point --store elsewhere")
        }
    }

    static func dialected(_ statement: String, postgres: Bool) -> String {
        statement
            .replacingOccurrences(
                of: "{id}", with: postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            )
            .replacingOccurrences(of: "{bigint}", with: postgres ? "BIGINT" : "INTEGER")
    }
}
