import JWT
import Testing

/// One URL signed by Atlassian's Java Connect plugin (shared/spec/vectors).
struct SignedURLCase: Sendable, CustomTestStringConvertible {
    let name: String
    let canonical: String
    let path: Substring
    let query: Substring
    let token: Substring
    /// The token's `iat`: a time inside its three-minute validity (the vectors expired in 2014).
    let issuedAt: Int64
    var testDescription: String { name }

    static let secret = Fixture.json("connect-signed-urls.json")["secret"]!.stringValue!

    static func load() -> [SignedURLCase] {
        Fixture.json("connect-signed-urls.json")["tests"]!.arrayValue!.map { row in
            let url = row["signedUrl"]!.stringValue!
            let afterHost = url.drop(while: { $0 != "/" }).dropFirst(2).drop(while: { $0 != "/" })
            let question = afterHost.firstIndex(of: "?")!
            let query = afterHost[afterHost.index(after: question)...]
            let token = query.split(separator: "&").first(where: { $0.hasPrefix("jwt=") })!.dropFirst(4)
            let issuedAt = try! UnverifiedJWT(decoding: String(token)).claims["iat"]!.int64Value!
            return SignedURLCase(
                name: row["name"]!.stringValue!, canonical: row["canonicalUrl"]!.stringValue!,
                path: afterHost[..<question], query: query, token: token, issuedAt: issuedAt)
        }
    }
}

@Suite("Connect signed-URL vectors from the Java reference")
struct ConnectVectorTests {
    @Test("all forty vectors are present")
    func count() {
        #expect(SignedURLCase.load().count == 40)
    }

    @Test("canonical request, qsh and HS256 signature, verified at the token's iat", arguments: SignedURLCase.load())
    func vector(_ vector: SignedURLCase) throws {
        let canonical = try CanonicalRequest(method: "GET", rawPath: vector.path, rawQuery: vector.query)
        #expect(canonical.description == vector.canonical)

        let key = try JWTKey.secret(Array(SignedURLCase.secret.utf8))
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        let claims = try verifier.verify(
            vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query,
            now: vector.issuedAt)
        #expect(claims.issuer == "jira:1234-5678-9000")
        #expect(try claims.claims.string("qsh") == canonical.queryStringHash)
    }

    @Test("the same vectors fail with a wrong secret")
    func wrongSecret() throws {
        let key = try JWTKey.secret(Array("another-shared-secret-of-32-bytes!!".utf8))
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        for vector in SignedURLCase.load() {
            #expect(throws: JWTError(.invalidSignature)) {
                try verifier.verify(
                    vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query,
                    now: vector.issuedAt)
            }
        }
    }

    @Test("a vector verifies from its iat to its exp, each widened by the clock skew, and not outside")
    func validity() throws {
        let key = try JWTKey.secret(Array(SignedURLCase.secret.utf8))
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        let vector = SignedURLCase.load()[0]
        let expiresAt = try #require(try UnverifiedJWT(decoding: String(vector.token)).claims["exp"]?.int64Value)
        for now in [vector.issuedAt - 30, vector.issuedAt + 90, expiresAt, expiresAt + 30] {
            let claims = try verifier.verify(
                vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query, now: now)
            #expect(claims.issuer == "jira:1234-5678-9000")
        }
        #expect(throws: JWTError(.issuedInFuture)) {
            try verifier.verify(
                vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query,
                now: vector.issuedAt - 31)
        }
        #expect(throws: JWTError(.expired)) {
            try verifier.verify(
                vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query, now: expiresAt + 31)
        }
    }

    @Test("the same vectors fail at the current time: they expired in 2014")
    func expired() throws {
        let key = try JWTKey.secret(Array(SignedURLCase.secret.utf8))
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        let vector = SignedURLCase.load()[0]
        #expect(throws: JWTError(.expired)) {
            try verifier.verify(vector.token, method: "GET", rawPath: vector.path, rawQuery: vector.query)
        }
    }
}
