import Testing

@testable import JWT

/// `ConnectJWTVerifier.verify` takes a one-pass path for the common token; it must
/// accept and refuse exactly as the full path does, with the same error codes
/// (docs/jwt.md, "The Connect request binding").
@Suite("Connect verification: common case and full path agree")
struct ConnectCommonCaseTests {
    static let secret = Array("connect-common-case-secret-0123456789".utf8)
    static let now: Int64 = 1_700_000_000
    static let request = (method: "GET", path: "/rest/api/3/search", query: "jql=a%20b&maxResults=50&startAt=0")

    static func token(
        _ claims: JSONObject, header: JSONObject? = nil, secret: [UInt8] = ConnectCommonCaseTests.secret
    ) throws -> String {
        let key = try JWTKey.secret(secret)
        let headerText = Base64URL.encode(
            JSONValue.object(header ?? JSONObject([("alg", "HS256"), ("typ", "JWT")])).serializedBytes())
        let input = headerText + "." + Base64URL.encode(JSONValue.object(claims).serializedBytes())
        return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
    }

    static func claims(_ changes: [(String, JSONValue?)] = []) throws -> JSONObject {
        let qsh = try CanonicalRequest(method: request.method, rawPath: request.path, rawQuery: request.query)
            .queryStringHash
        var claims = JSONObject([
            ("iss", "com.example.app"), ("iat", .integer(now - 10)), ("exp", .integer(now + 170)),
            ("jti", "j-1"), ("qsh", .string(qsh)),
        ])
        for (name, value) in changes { claims[name] = value }
        return claims
    }

    /// The outcome of one path: the issuer and context flag, or the error code.
    static func outcome(_ body: () throws(JWTError) -> ConnectClaims) -> String {
        do {
            let claims = try body()
            return "ok \(claims.issuer) \(claims.isContextToken) \(claims.claims.fields.count)"
        } catch {
            return error.code.rawValue
        }
    }

    static func cases() throws -> [(String, String)] {
        let plain = try claims()
        var tokens: [(String, String)] = [
            ("valid", try token(plain)),
            ("context-qsh", try token(try claims([("qsh", .string(QueryStringHash.context))]))),
            ("wrong qsh", try token(try claims([("qsh", "00")]))),
            ("qsh a number", try token(try claims([("qsh", 5)]))),
            ("no qsh", try token(try claims([("qsh", nil)]))),
            ("expired", try token(try claims([("exp", .integer(now - 31)), ("iat", .integer(now - 100))]))),
            ("expiry within the skew", try token(try claims([("exp", .integer(now - 30))]))),
            ("no exp", try token(try claims([("exp", nil)]))),
            ("no iat", try token(try claims([("iat", nil)]))),
            ("fractional iat", try token(try claims([("iat", .number(Double(now) - 10.5))]))),
            ("iat in the future", try token(try claims([("iat", .integer(now + 31))]))),
            ("nbf in the future", try token(try claims([("nbf", .integer(now + 31))]))),
            ("nbf a string", try token(try claims([("nbf", "soon")]))),
            ("lifetime too long", try token(try claims([("exp", .integer(now + 3600))]))),
            ("no iss", try token(try claims([("iss", nil)]))),
            ("unknown iss", try token(try claims([("iss", "com.example.other")]))),
            ("iss null", try token(try claims([("iss", .null)]))),
            ("nested claim", try token(try claims([("context", ["user": "u"])]))),
            ("non-ASCII claim", try token(try claims([("sub", "Zoë")]))),
            ("wrong secret", try token(plain, secret: Array("another-secret-of-enough-length-0123".utf8))),
            ("kid not the key's", try token(plain, header: JSONObject([("alg", "HS256"), ("kid", "k9")]))),
            ("HS384 header", try token(plain, header: JSONObject([("alg", "HS384")]))),
            ("alg none", try token(plain, header: JSONObject([("alg", "none")]))),
        ]
        let valid = tokens[0].1
        tokens.append(("tampered signature", String(valid.dropLast()) + (valid.hasSuffix("A") ? "B" : "A")))
        tokens.append(("four segments", valid + ".x"))
        tokens.append(("empty signature", String(valid[..<valid.lastIndex(of: ".")!]) + "."))
        let duplicate =
            String(valid.split(separator: ".")[0]) + "."
            + Base64URL.encode(Array(#"{"iss":"com.example.app","iss":"com.example.app"}"#.utf8)) + ".AAAA"
        tokens.append(("duplicate iss", duplicate))
        return tokens
    }

    @Test("every case has the same outcome on both paths, context tokens allowed or not")
    func agree() throws {
        let key = try JWTKey.secret(Self.secret)
        let verifier = ConnectJWTVerifier(lookup: { $0 == "com.example.app" ? key : nil })
        for (name, token) in try Self.cases() {
            for allowContext in [false, true] {
                let common = Self.outcome { () throws(JWTError) in
                    try verifier.verify(
                        token, method: Self.request.method, rawPath: Self.request.path,
                        rawQuery: Self.request.query, allowContextQSH: allowContext, now: Self.now)
                }
                let full = Self.outcome { () throws(JWTError) in
                    try verifier.verifyInFull(
                        Substring(token), method: Self.request.method, rawPath: Substring(Self.request.path),
                        rawQuery: Substring(Self.request.query), allowContextQSH: allowContext, now: Self.now)
                }
                #expect(common == full, "\(name), context allowed: \(allowContext)")
            }
        }
    }

    @Test("the common case returns every claim, read when asked")
    func claimsOnDemand() throws {
        let key = try JWTKey.secret(Self.secret)
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        let claims = try verifier.verify(
            try Self.token(try Self.claims()), method: Self.request.method, rawPath: Self.request.path,
            rawQuery: Self.request.query, now: Self.now)
        #expect(claims.claims == JWTClaims(try Self.claims()))
        #expect(try claims.claims.tokenID() == "j-1")
    }

    @Test("the claims of a token inside a larger string are read from the token's own payload")
    func claimsOfASlicedToken() throws {
        let key = try JWTKey.secret(Self.secret)
        let verifier = ConnectJWTVerifier(lookup: { _ in key })
        // As the gateway passes it: a slice of the header value, not starting at 0.
        let header = "JWT " + (try Self.token(try Self.claims())) + " trailing"
        let token = header.dropFirst(4).dropLast(9)
        let claims = try verifier.verify(
            token, method: Self.request.method, rawPath: Self.request.path, rawQuery: Self.request.query,
            now: Self.now)
        #expect(claims.claims == JWTClaims(try Self.claims()))
    }

    @Test("a qsh claim matches only as the exact lower-case hex of the digest")
    func qshClaimForms() throws {
        let (method, path, query) = Self.request
        let qsh = try CanonicalRequest(method: method, rawPath: path, rawQuery: query).queryStringHash
        func matches(_ claim: String) throws -> Bool {
            try CanonicalForm.queryStringHash(
                claim, matchesMethod: method, rawPath: Substring(path), rawQuery: Substring(query), basePath: "")
        }
        #expect(try matches(qsh))
        #expect(try !matches(qsh.uppercased()))
        #expect(try !matches(String(qsh.dropLast())))
        #expect(try !matches(qsh + "0"))
        #expect(try !matches(""))
        // Each position replaced by a near-miss byte of the hex alphabet's edges, or another digit.
        for position in 0..<qsh.utf8.count {
            for replacement in ["/", ":", "`", "g", "A", "F", "G"] + ["0", "a", "f", "9"] {
                var bytes = Array(qsh.utf8)
                guard bytes[position] != UInt8(ascii: Unicode.Scalar(replacement)!) else { continue }
                bytes[position] = UInt8(ascii: Unicode.Scalar(replacement)!)
                #expect(try !matches(String(decoding: bytes, as: UTF8.self)), "\(position) \(replacement)")
            }
        }
        // A malformed query is refused as such, whatever the claim.
        #expect(throws: JWTError(.invalidQueryEncoding)) {
            try CanonicalForm.queryStringHash(
                "x", matchesMethod: method, rawPath: Substring(path), rawQuery: "a=%zz", basePath: "")
        }
    }

    @Test("buffers compared 16 bytes a call are equal exactly when every byte is")
    func constantTimeChunks() {
        for count in 0...70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            bytes.withUnsafeBytes { left in
                #expect(Array(bytes).withUnsafeBytes { ConstantTime.equals(left, $0) }, "\(count)")
                #expect(!(bytes + [0]).withUnsafeBytes { ConstantTime.equals(left, $0) }, "\(count) longer")
                for position in 0..<count {
                    var changed = bytes
                    changed[position] ^= 0x80
                    #expect(!changed.withUnsafeBytes { ConstantTime.equals(left, $0) }, "\(count) at \(position)")
                }
            }
        }
    }
}
