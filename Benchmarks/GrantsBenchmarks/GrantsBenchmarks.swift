import Benchmark
import Foundation
import Grants
import JWT
import Policy
import SQLiteKit

// The 3LO token endpoint's work on the SQLite store: code exchanges and refresh
// rotations through `AuthorizationCodeGrant`, each one store transaction plus an
// ES256 signature, against the reference measured in the same run: raw SQLite
// write transactions (BEGIN IMMEDIATE; INSERT; COMMIT) through sqlite-nio and
// SQLKit on a connection with the store's pragmas. scripts/bench-report.py prints
// the operations per second and how many raw transactions one operation costs.
// Every benchmark runs 1,000 operations per sample (scalingFactor .kilo), which
// the report relies on. What an operation needs (codes, live refresh tokens) is
// made before `startMeasurement()` in each sample, so only the operations are timed.

let redirectURI = "https://app.example/cb"
let client = ThreeLeggedClient(
    appKey: "com.example.automation", clientID: "automation-3lo", isPublic: false,
    scopes: ["read:jira-work", "offline_access"])
/// Refresh families per sample: each is rotated 1,000 / 100 = 10 times, a chain
/// of realistic length (every rotation retires the family's live tokens).
let refreshFamilies = 100

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

    let exchange = GrantFixture()
    Benchmark(
        "3LO code exchange (SQLite)",
        closure: { benchmark async throws in
            var codes: [String] = []
            codes.reserveCapacity(benchmark.scaledIterations.count)
            for _ in benchmark.scaledIterations {
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

    let refresh = GrantFixture()
    Benchmark(
        "3LO refresh rotation (SQLite)",
        closure: { benchmark async throws in
            var tokens: [String] = []
            for _ in 0..<refreshFamilies {
                tokens.append(try await refresh.newRefreshToken())
            }
            benchmark.startMeasurement()
            for iteration in benchmark.scaledIterations {
                let family = iteration % refreshFamilies
                let result = try await refresh.grant.refresh(
                    token: tokens[family], scope: nil, client: client, policy: ActiveUsers())
                guard let next = result.refreshToken else {
                    throw BenchmarkFailure("the rotation returned no refresh token")
                }
                tokens[family] = next
            }
            benchmark.stopMeasurement()
        }, setup: { try await refresh.open() }, teardown: { await refresh.close() })

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

/// A fresh SQLite store and the grant over it, for one benchmark.
/// `@unchecked Sendable`: set by the setup hook and cleared by the teardown hook,
/// which the harness runs before and after the samples, never alongside them.
final class GrantFixture: @unchecked Sendable {
    private var directory: String?
    private var store: Store?
    private(set) var grant: AuthorizationCodeGrant!

    func open() async throws {
        let directory = try scratchDirectory()
        let store = try await Store.open(.sqlite(path: directory + "/bench.sqlite"), logger: quietLogger)
        let issuer = try AccessTokenIssuer(key: try await store.accessTokenKey(), issuer: "http://127.0.0.1:8080")
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
                familyID: SecureRandom.identifier(), appKey: client.appKey, clientID: client.clientID,
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

/// A policy in which every user may act: the benchmarks measure the grant and the store.
struct ActiveUsers: GrantPolicy {
    func assertionClient(clientID: String) -> AssertionClient? { nil }
    func appScopes(appKey: String) -> AppScopes { AppScopes(names: [], covers: { _ in false }) }
    func userStatus(accountId: String) -> UserStatus { .active }
    func appKey(ofAppUser accountId: String) -> String? { nil }
    func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey? { nil }
}
