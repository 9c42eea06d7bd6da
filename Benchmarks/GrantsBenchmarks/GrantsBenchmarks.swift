import Benchmark
import Foundation
import Grants
import JWT
import NIOCore
import NIOPosix
import Policy
import PostgresKit
import SQLiteKit
import VaporCSQLite

// The token endpoint's work on the store: JWT-bearer exchanges through
// `JWTBearerGrant` (an HS256 assertion verified, an ES256 access token signed,
// the replay row and the token row recorded), 3LO code exchanges and refresh
// rotations through `AuthorizationCodeGrant` (one store transaction plus an ES256
// signature each), on SQLite and, when `make bench` runs under
// scripts/with-postgres.sh (LINKGATE_TEST_POSTGRES set), on its throwaway
// PostgreSQL cluster. Beside them, in the same run, the reference of each
// database: a raw write transaction (BEGIN; INSERT; COMMIT) on a connection set up
// like the store's: on SQLite through sqlite-nio and SQLKit (three thread hops a
// statement) and straight through the C API on the calling thread (no hop at all,
// the floor); on PostgreSQL through postgres-kit's pool with the store's settings.
// scripts/bench-report.py prints the operations per second and how many raw
// transactions of the same database one operation costs.
// Every SQLite benchmark runs 1,000 operations per sample and every PostgreSQL one
// 200 (`Database.operationsPerSample`), which the report relies on; one operation
// at a time, so these are latency figures (group commit and PostgreSQL's
// concurrent commits only pay off with company: make bench-proxy).
// What an operation needs (assertions, codes, live refresh tokens) is made before
// `startMeasurement()` in each sample, so only the operations are timed.

let site = "http://127.0.0.1:8080"
let redirectURI = "https://app.example/cb"
let client = ThreeLeggedClient(
    appKey: "com.example.automation", clientID: "automation-3lo", isPublic: false,
    scopes: ["read:jira-work", "offline_access"])
/// How many times a sample rotates each refresh family: a chain of realistic
/// length (every rotation retires the family's live tokens).
let rotationsPerFamily = 10

/// The databases of this run: SQLite always, PostgreSQL under scripts/with-postgres.sh.
enum Database: Sendable {
    case sqlite
    case postgres(url: String)

    static var available: [Database] {
        guard let url = ProcessInfo.processInfo.environment["LINKGATE_TEST_POSTGRES"], !url.isEmpty else {
            return [.sqlite]
        }
        return [.sqlite, .postgres(url: url)]
    }

    var name: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    /// Operations per sample; scripts/bench-report.py keeps the same numbers. A
    /// PostgreSQL operation (fsync on each commit) takes 1–3 ms here: 1,000 of them
    /// would make a sample longer than 2 s, whose throughput package-benchmark
    /// records as a whole number of samples per second, 0, and then leaves out of
    /// the JMH export, row and all.
    var operationsPerSample: Int {
        switch self {
        case .sqlite: 1_000
        case .postgres: 200
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    // A sample of 1,000 operations takes about a second here (setup included):
    // 10 seconds give each benchmark several samples, each an average over
    // 1,000 operations and the WAL checkpoints among them.
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(10),
        maxIterations: 100
    )
    oauth1Benchmarks()

    for database in Database.available {
        let bearer = BearerFixture(database)
        Benchmark(
            "JWT-bearer exchange (\(database.name))",
            closure: { benchmark async throws in
                var assertions: [String] = []
                assertions.reserveCapacity(database.operationsPerSample)
                for _ in 0..<database.operationsPerSample {
                    assertions.append(try bearer.newAssertion())
                }
                benchmark.startMeasurement()
                for assertion in assertions {
                    let result = try await bearer.grant.exchange(
                        assertion: assertion, scope: nil, policy: AssertingApp.policy)
                    blackHole(result)
                }
                benchmark.stopMeasurement()
            }, setup: { try await bearer.open() }, teardown: { await bearer.close() })

        let exchange = GrantFixture(database)
        Benchmark(
            "3LO code exchange (\(database.name))",
            closure: { benchmark async throws in
                var codes: [String] = []
                codes.reserveCapacity(database.operationsPerSample)
                for _ in 0..<database.operationsPerSample {
                    codes.append(try await exchange.newCode())
                }
                benchmark.startMeasurement()
                for code in codes {
                    let result = try await exchange.grant.exchange(
                        code: code, redirectURI: redirectURI, codeVerifier: nil, client: client, policy: ActiveUsers())
                    blackHole(result)
                }
                benchmark.stopMeasurement()
            }, setup: { try await exchange.open() }, teardown: { await exchange.close() })

        let refresh = GrantFixture(database)
        Benchmark(
            "3LO refresh rotation (\(database.name))",
            closure: { benchmark async throws in
                var tokens: [String] = []
                for _ in 0..<database.operationsPerSample / rotationsPerFamily {
                    tokens.append(try await refresh.newRefreshToken())
                }
                benchmark.startMeasurement()
                for iteration in 0..<database.operationsPerSample {
                    let family = iteration % tokens.count
                    let result = try await refresh.grant.refresh(
                        token: tokens[family], scope: nil, client: client, policy: ActiveUsers())
                    guard let next = result.refreshToken else {
                        throw BenchmarkFailure("the rotation returned no refresh token")
                    }
                    tokens[family] = next
                }
                benchmark.stopMeasurement()
            }, setup: { try await refresh.open() }, teardown: { await refresh.close() })

        switch database {
        case .sqlite:
            let reference = RawSQLiteFixture()
            Benchmark(
                "raw SQLite write transaction (SQLKit)",
                closure: { benchmark async throws in
                    let database: any SQLDatabase = reference.database
                    for _ in benchmark.scaledIterations {
                        try await database.raw("BEGIN IMMEDIATE").run()
                        try await database.raw(
                            """
                            INSERT INTO reference_rows (row_hash, family_id, issued_at)
                            VALUES (\(bind: SecureRandom.identifier(bytes: 32)), \(bind: "family"), \(bind: UnixTime.now()))
                            """
                        ).run()
                        try await database.raw("COMMIT").run()
                    }
                }, setup: { try await reference.open() }, teardown: { await reference.close() })

            let floor = RawSQLiteCFixture()
            Benchmark(
                "raw SQLite write transaction (C API)",
                closure: { benchmark in
                    for _ in benchmark.scaledIterations {
                        try floor.writeTransaction()
                    }
                }, setup: { try floor.open() }, teardown: { floor.close() })

        case .postgres(let url):
            let reference = RawPostgresFixture(url: url)
            Benchmark(
                "raw PostgreSQL write transaction (postgres-kit)",
                closure: { _ async throws in
                    for _ in 0..<database.operationsPerSample {
                        try await reference.writeTransaction()
                    }
                }, setup: { try await reference.open() }, teardown: { await reference.close() })
        }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A throwaway folder under the system's temporary directory.
func scratchDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "linkgate-bench-\(SecureRandom.identifier())"
    ).path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

var quietLogger: Logger {
    var logger = Logger(label: "linkgate.bench")
    logger.logLevel = .warning
    return logger
}

/// A fresh store of `database`: a new SQLite file in `directory`, or a new database on the cluster.
func freshStore(_ database: Database, directory: String) async throws -> Store {
    switch database {
    case .sqlite: try await Store.open(.sqlite(path: directory + "/bench.sqlite"), logger: quietLogger)
    case .postgres(let url):
        try await Store.open(.postgres(url: try await freshPostgresDatabase(url)), logger: quietLogger)
    }
}

/// The URL of a new, empty database on the server of `url` (made there with `CREATE DATABASE`),
/// so every benchmark starts on empty tables as it does on SQLite.
func freshPostgresDatabase(_ url: String) async throws -> String {
    guard var components = URLComponents(string: url) else { throw BenchmarkFailure("not a URL: \(url)") }
    let name = "bench_" + SecureRandom.identifier(bytes: 8).lowercased().filter { $0.isLetter || $0.isNumber }
    let pool = try postgresPool(url)
    do {
        try await withConnection(pool) { try await $0.raw(SQLQueryString("CREATE DATABASE \(name)")).run() }
    } catch {
        try? await pool.shutdownAsync()
        throw error
    }
    try await pool.shutdownAsync()
    components.path = "/" + name
    guard let fresh = components.string else { throw BenchmarkFailure("cannot name the database \(name)") }
    return fresh
}

/// A pool as the store's PostgresBackend makes it: four connections an event loop of NIO's shared group.
func postgresPool(_ url: String) throws -> EventLoopGroupConnectionPool<PostgresConnectionSource> {
    EventLoopGroupConnectionPool(
        source: PostgresConnectionSource(sqlConfiguration: try SQLPostgresConfiguration(url: url)),
        maxConnectionsPerEventLoop: 4, requestTimeout: .seconds(10), logger: quietLogger,
        on: MultiThreadedEventLoopGroup.singleton)
}

/// Runs `body` on a connection of `pool`, in a task of its own as the store's sessions do.
func withConnection(
    _ pool: EventLoopGroupConnectionPool<PostgresConnectionSource>,
    _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void
) async throws {
    try await pool.withConnection(logger: quietLogger) { connection in
        connection.eventLoop.makeFutureWithTask { try await body(connection.sql(queryLogLevel: nil)) }
    }.get()
}

/// A fresh store and the 3LO grant over it, for one benchmark.
/// `@unchecked Sendable`: set by the setup hook and cleared by the teardown hook,
/// which the harness runs before and after the samples, never alongside them.
final class GrantFixture: @unchecked Sendable {
    let database: Database
    private var directory: String?
    private var store: Store?
    private(set) var grant: AuthorizationCodeGrant!

    init(_ database: Database) { self.database = database }

    func open() async throws {
        let directory = try scratchDirectory()
        let store = try await freshStore(database, directory: directory)
        let issuer = try AccessTokenIssuer(key: try await store.accessTokenKey(), issuer: site)
        self.directory = directory
        self.store = store
        grant = AuthorizationCodeGrant(
            issuer: issuer, store: store, accessLifetime: 3600,
            refreshPolicy: RefreshPolicy(inactivity: 7_776_000, absolute: 31_536_000, reuseGrace: 10))
    }

    /// A code as /authorize keeps it after consent, good for ten minutes.
    func newCode() async throws -> String {
        let code = SecureRandom.identifier(bytes: 32)
        try await store!.insertCode(
            code,
            AuthorizationCodeRecord(
                familyID: TimeOrderedID.make(), appKey: client.appKey, clientID: client.clientID,
                accountId: "alice",
                redirectURI: redirectURI, scopes: client.scopes, codeChallenge: nil, expiresAt: UnixTime.now() + 600))
        return code
    }

    /// The refresh token of a new grant family (a code exchanged).
    func newRefreshToken() async throws -> String {
        let result = try await grant.exchange(
            code: try await newCode(), redirectURI: redirectURI, codeVerifier: nil, client: client,
            policy: ActiveUsers())
        guard let token = result.refreshToken else { throw BenchmarkFailure("the exchange returned no refresh token") }
        return token
    }

    func close() async {
        await store?.close()
        store = nil
        grant = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        directory = nil
    }
}

/// A fresh store and the JWT bearer grant over it, with assertions signed as an app would sign them.
/// `@unchecked Sendable`: as `GrantFixture`.
final class BearerFixture: @unchecked Sendable {
    let database: Database
    private var directory: String?
    private var store: Store?
    private(set) var grant: JWTBearerGrant!
    private let signer = JWTSigner(key: AssertingApp.key)

    init(_ database: Database) { self.database = database }

    func open() async throws {
        let directory = try scratchDirectory()
        let store = try await freshStore(database, directory: directory)
        let issuer = try AccessTokenIssuer(key: try await store.accessTokenKey(), issuer: site)
        self.directory = directory
        self.store = store
        grant = JWTBearerGrant(
            verifier: BearerAssertionVerifier(baseURL: site), issuer: issuer, store: store, lifetime: 900)
    }

    /// A 2LOi assertion as Atlassian's client libraries make it: HS256, a `jti` of its own, 60 s.
    func newAssertion() throws -> String {
        let now = UnixTime.now()
        return try signer.sign(
            JSONObject([
                ("iss", .string(BearerAssertionVerifier.issuerPrefix + AssertingApp.clientID)),
                ("sub", .string(BearerAssertionVerifier.subjectPrefix + "alice")),
                ("tnt", .string(site)),
                ("aud", .string(site + "/oauth2/token")),
                ("iat", .integer(now)),
                ("exp", .integer(now + 60)),
                ("jti", .string(SecureRandom.identifier())),
            ]))
    }

    func close() async {
        await store?.close()
        store = nil
        grant = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        directory = nil
    }
}

/// One SQLite connection set up like the store's (SQLiteBackend.swift): WAL,
/// synchronous=NORMAL, a busy timeout and foreign keys, over NIO's shared pools.
final class RawSQLiteFixture: @unchecked Sendable {
    private var directory: String?
    private var connection: SQLiteConnection?
    private(set) var database: (any SQLDatabase)!

    func open() async throws {
        let directory = try scratchDirectory()
        let connection = try await SQLiteConnection.open(
            storage: .file(path: directory + "/reference.sqlite"), logger: quietLogger)
        let database = connection.sql()
        for pragma in [
            "PRAGMA busy_timeout = 10000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
        ] {
            try await database.raw(SQLQueryString(pragma)).run()
        }
        try await database.raw(
            """
            CREATE TABLE reference_rows (row_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, issued_at BIGINT NOT NULL)
            """
        ).run()
        self.directory = directory
        self.connection = connection
        self.database = database
    }

    func close() async {
        try? await connection?.close()
        connection = nil
        database = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        directory = nil
    }
}

/// The reference of PostgreSQL: `BEGIN; INSERT; COMMIT` on a connection of a pool set up as
/// the store's (postgres-kit, the same URL settings), in a fresh database of the cluster.
/// `@unchecked Sendable`: as `GrantFixture`.
final class RawPostgresFixture: @unchecked Sendable {
    let url: String
    private var pool: EventLoopGroupConnectionPool<PostgresConnectionSource>?

    init(url: String) { self.url = url }

    func open() async throws {
        let pool = try postgresPool(try await freshPostgresDatabase(url))
        try await withConnection(pool) { database in
            try await database.raw(
                """
                CREATE TABLE reference_rows (row_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, issued_at BIGINT NOT NULL)
                """
            ).run()
        }
        self.pool = pool
    }

    func writeTransaction() async throws {
        try await withConnection(pool!) { database in
            try await database.raw("BEGIN").run()
            try await database.raw(
                """
                INSERT INTO reference_rows (row_hash, family_id, issued_at)
                VALUES (\(bind: SecureRandom.identifier(bytes: 32)), \(bind: "family"), \(bind: UnixTime.now()))
                """
            ).run()
            try await database.raw("COMMIT").run()
        }
    }

    func close() async {
        try? await pool?.shutdownAsync()
        pool = nil
    }
}

/// The floor of SQLite: `BEGIN IMMEDIATE; INSERT; COMMIT` straight through the C API that
/// sqlite-nio bundles, on the calling thread, with the INSERT prepared once and the store's
/// pragmas. No thread hop, no SQLKit: what a write transaction costs SQLite itself.
/// `@unchecked Sendable`: as `GrantFixture`.
final class RawSQLiteCFixture: @unchecked Sendable {
    private var directory: String?
    private var connection: OpaquePointer?
    private var insert: OpaquePointer?

    func open() throws {
        let directory = try scratchDirectory()
        var connection: OpaquePointer?
        guard
            sqlite_nio_sqlite3_open_v2(
                directory + "/floor.sqlite", &connection,
                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK
        else { throw BenchmarkFailure("cannot open the SQLite file") }
        self.directory = directory
        self.connection = connection
        for statement in [
            "PRAGMA busy_timeout = 10000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE reference_rows (row_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, issued_at BIGINT NOT NULL)",
        ] {
            try execute(statement)
        }
        let sql = "INSERT INTO reference_rows (row_hash, family_id, issued_at) VALUES (?1, ?2, ?3)"
        guard sqlite_nio_sqlite3_prepare_v2(connection, sql, -1, &insert, nil) == SQLITE_OK else {
            throw BenchmarkFailure("cannot prepare the INSERT")
        }
    }

    func writeTransaction() throws {
        try execute("BEGIN IMMEDIATE")
        let hash = SecureRandom.identifier(bytes: 32)
        sqlite_nio_sqlite3_bind_text(insert, 1, hash, -1, transient)
        sqlite_nio_sqlite3_bind_text(insert, 2, "family", -1, transient)
        sqlite_nio_sqlite3_bind_int64(insert, 3, UnixTime.now())
        let step = sqlite_nio_sqlite3_step(insert)
        sqlite_nio_sqlite3_reset(insert)
        guard step == SQLITE_DONE else {
            try? execute("ROLLBACK")
            throw BenchmarkFailure("the INSERT failed: \(step)")
        }
        try execute("COMMIT")
    }

    private func execute(_ sql: String) throws {
        guard sqlite_nio_sqlite3_exec(connection, sql, nil, nil, nil) == SQLITE_OK else {
            throw BenchmarkFailure("\(sql) failed: \(String(cString: sqlite_nio_sqlite3_errmsg(connection)))")
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound text.
    private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func close() {
        sqlite_nio_sqlite3_finalize(insert)
        sqlite_nio_sqlite3_close_v2(connection)
        insert = nil
        connection = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        directory = nil
    }
}

/// The app that signs the JWT bearer assertions of the benchmarks, as a policy would name it.
enum AssertingApp {
    static let clientID = "automation-2loi-client"
    static let key = try! JWTKey.secret(Array("demo-only-automation-shared-secret-fedcba9876543210".utf8))
    static let policy = ActiveUsers()
}

/// A policy in which every user may act: the benchmarks measure the grant and the store.
struct ActiveUsers: GrantPolicy {
    func assertionClient(clientID: String) -> AssertionClient? {
        guard clientID == AssertingApp.clientID else { return nil }
        return AssertionClient(appKey: client.appKey, key: AssertingApp.key, enabled: true, canActAsUser: true)
    }
    func appScopes(appKey: String) -> AppScopes {
        AppScopes(names: ["READ", "WRITE", "ACT_AS_USER"], covers: { ["READ", "WRITE"].contains($0) })
    }
    func userStatus(accountId: String) -> UserStatus { .active }
    func appKey(ofAppUser accountId: String) -> String? { nil }
    func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey? { nil }
}
