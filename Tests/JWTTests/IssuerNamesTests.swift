import Synchronization
import Testing

@testable import JWT

/// A thread reuses the `String` of an app key it verified before (`IssuerNames`):
/// the key lookup must still be asked on every verification, with the token's own
/// `iss`, and answer as it does now (docs/jwt.md, "The Connect request binding").
@Suite("Connect app keys remembered per thread")
struct IssuerNamesTests {
    /// App keys longer than 15 bytes, of several lengths and last bytes, so some share a slot.
    static let apps = (0..<24).map { "com.example.long-app-key-" + String(repeating: "x", count: $0 % 7) + "\($0)" }

    static func secret(_ app: String) -> [UInt8] { Array("secret-of-\(app)-0123456789abcdef".utf8) }

    static func token(for app: String) throws -> String {
        try ConnectCommonCaseTests.token(
            try ConnectCommonCaseTests.claims([("iss", .string(app))]), secret: secret(app))
    }

    static func verify(_ token: String, with verifier: ConnectJWTVerifier) throws(JWTError) -> ConnectClaims {
        let request = ConnectCommonCaseTests.request
        return try verifier.verify(
            token, method: request.method, rawPath: request.path, rawQuery: request.query,
            now: ConnectCommonCaseTests.now)
    }

    @Test("interleaved apps: every verification asks the lookup for its own iss and returns it")
    func interleaved() throws {
        let keys = try Dictionary(uniqueKeysWithValues: Self.apps.map { ($0, try JWTKey.secret(Self.secret($0))) })
        let asked = Mutex<[String]>([])
        let verifier = ConnectJWTVerifier(lookup: { issuer in
            asked.withLock { $0.append(issuer) }
            return keys[issuer]
        })
        let tokens = try Self.apps.map { ($0, try Self.token(for: $0)) }
        var expected: [String] = []
        for round in 0..<3 {
            for (index, (app, token)) in tokens.enumerated() where (index + round) % 2 == 0 || round == 2 {
                #expect(try Self.verify(token, with: verifier).issuer == app)
                expected.append(app)
                // Again at once, now from the remembered slot.
                #expect(try Self.verify(token, with: verifier).issuer == app)
                expected.append(app)
            }
        }
        #expect(asked.withLock { $0 } == expected)
    }

    @Test("a remembered app key whose app is gone is refused: the lookup decides every time")
    func lookupDecidesEveryTime() throws {
        let app = Self.apps[5]
        let key = try JWTKey.secret(Self.secret(app))
        let installed = Mutex(true)
        let verifier = ConnectJWTVerifier(lookup: { issuer in
            installed.withLock { $0 } && issuer == app ? key : nil
        })
        let token = try Self.token(for: app)
        #expect(try Self.verify(token, with: verifier).issuer == app)
        // Remembered on this thread (a test function that does not suspend stays on one).
        #expect(Array(app.utf8).withUnsafeBufferPointer { IssuerNames.name($0).isRemembered })
        installed.withLock { $0 = false }
        #expect(throws: JWTError(.unknownIssuer)) { try Self.verify(token, with: verifier) }
        installed.withLock { $0 = true }
        #expect(try Self.verify(token, with: verifier).issuer == app)
    }

    @Test("an unknown app key is not remembered")
    func unknownNotRemembered() throws {
        let stranger = "com.example.never-installed-app"
        let verifier = ConnectJWTVerifier(lookup: { _ in nil })
        let token = try Self.token(for: stranger)
        for _ in 0..<2 {
            #expect(throws: JWTError(.unknownIssuer)) { try Self.verify(token, with: verifier) }
            let remembered = Array(stranger.utf8).withUnsafeBufferPointer { IssuerNames.name($0).isRemembered }
            #expect(!remembered)
        }
    }

    @Test("many threads verify tokens of many apps at once")
    func threads() async throws {
        let keys = try Dictionary(uniqueKeysWithValues: Self.apps.map { ($0, try JWTKey.secret(Self.secret($0))) })
        let verifier = ConnectJWTVerifier(lookup: { keys[$0] })
        let tokens = try Self.apps.map { ($0, try Self.token(for: $0)) }
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for round in 0..<200 {
                        let (app, token) = tokens[(task * 7 + round) % tokens.count]
                        if (try? Self.verify(token, with: verifier).issuer) != app { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
