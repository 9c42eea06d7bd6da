import JWT
import Testing

@Suite("Claim rules")
struct ClaimRulesTests {
    static let now: Int64 = 1_700_000_000
    static let header = try! CompactJWS(parsing: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA").header

    func check(_ claims: JSONObject, _ configure: (inout ClaimRules) -> Void = { _ in }) throws {
        var rules = ClaimRules()
        configure(&rules)
        try rules.check(header: Self.header, claims: JWTClaims(claims), now: Self.now)
    }

    func claims(_ members: (String, JSONValue)...) -> JSONObject {
        JSONObject(members)
    }

    @Test("a token parsed first verifies as the token does: same claims, same refusals")
    func verifyParsed() throws {
        let key = try JWTKey.secret(Array("a-shared-secret-of-thirty-two-bytes!".utf8), algorithm: .hs256)
        let token = try JWTSigner(key: key).sign(claims(("iss", "app"), ("exp", .integer(Self.now + 60))))
        let verifier = JWTVerifier(key: key)
        let parsed = try verifier.verify(try CompactJWS(parsing: token), now: Self.now)
        #expect(try parsed.claims.issuer() == "app")
        #expect(try verifier.verify(token, now: Self.now).claims.issuer() == "app")
        #expect(throws: JWTError(.expired)) { try verifier.verify(try CompactJWS(parsing: token), now: Self.now + 91) }
        let other = try JWTKey.secret(Array("another-secret-of-thirty-two-bytes!!".utf8), algorithm: .hs256)
        #expect(throws: JWTError(.invalidSignature)) {
            try JWTVerifier(key: other).verify(try CompactJWS(parsing: token), now: Self.now)
        }
    }

    @Test("exp: required by default, skew applies on both sides of the boundary")
    func expiry() throws {
        #expect(throws: JWTError(.missingClaim)) { try check(claims()) }
        try check(claims(), { $0.requireExpiration = false })
        try check(claims(("exp", .integer(Self.now - 30))))
        #expect(throws: JWTError(.expired)) { try check(claims(("exp", .integer(Self.now - 31)))) }
        #expect(throws: JWTError(.expired)) { try check(claims(("exp", .integer(Self.now - 1))), { $0.clockSkew = 0 }) }
    }

    @Test("nbf and iat in the future beyond the skew are refused, each with its own code")
    func future() throws {
        let exp = ("exp", JSONValue.integer(Self.now + 100))
        try check(claims(exp, ("nbf", .integer(Self.now + 30))))
        #expect(throws: JWTError(.notYetValid)) { try check(claims(exp, ("nbf", .integer(Self.now + 31)))) }
        try check(claims(exp, ("iat", .integer(Self.now + 30))))
        #expect(throws: JWTError(.issuedInFuture)) { try check(claims(exp, ("iat", .integer(Self.now + 31)))) }
    }

    @Test("maximum lifetime counts from iat, or from now without iat")
    func lifetime() throws {
        let limit: (inout ClaimRules) -> Void = { $0.maxLifetime = 60 }
        try check(claims(("iat", .integer(Self.now)), ("exp", .integer(Self.now + 60))), limit)
        #expect(throws: JWTError(.lifetimeTooLong)) {
            try check(claims(("iat", .integer(Self.now)), ("exp", .integer(Self.now + 61))), limit)
        }
        #expect(throws: JWTError(.lifetimeTooLong)) { try check(claims(("exp", .integer(Self.now + 61))), limit) }
    }

    @Test("iss must be one of the accepted issuers")
    func issuer() throws {
        let exp = ("exp", JSONValue.integer(Self.now + 10))
        let accept: (inout ClaimRules) -> Void = { $0.issuers = ["a", "b"] }
        try check(claims(exp, ("iss", "b")), accept)
        #expect(throws: JWTError(.issuerMismatch)) { try check(claims(exp, ("iss", "c")), accept) }
        #expect(throws: JWTError(.missingClaim)) { try check(claims(exp), accept) }
        #expect(throws: JWTError(.invalidClaim)) { try check(claims(exp, ("iss", 3)), accept) }
    }

    @Test("aud may be a string or an array; one accepted member is enough")
    func audience() throws {
        let exp = ("exp", JSONValue.integer(Self.now + 10))
        let accept: (inout ClaimRules) -> Void = { $0.audiences = ["https://site/oauth2/token", "https://site"] }
        try check(claims(exp, ("aud", "https://site")), accept)
        try check(claims(exp, ("aud", ["https://other", "https://site/oauth2/token"])), accept)
        #expect(throws: JWTError(.audienceMismatch)) { try check(claims(exp, ("aud", ["https://other"])), accept) }
        #expect(throws: JWTError(.audienceMismatch)) { try check(claims(exp, ("aud", [])), accept) }
        #expect(throws: JWTError(.invalidClaim)) { try check(claims(exp, ("aud", [1])), accept) }
        #expect(throws: JWTError(.missingClaim)) { try check(claims(exp), accept) }
    }

    @Test("sub must equal the expected subject")
    func subject() throws {
        let exp = ("exp", JSONValue.integer(Self.now + 10))
        try check(claims(exp, ("sub", "u1")), { $0.subject = "u1" })
        #expect(throws: JWTError(.subjectMismatch)) { try check(claims(exp, ("sub", "u2")), { $0.subject = "u1" }) }
    }

    @Test("typ compares case-insensitively and ignores an application/ prefix")
    func type() throws {
        let exp = ("exp", JSONValue.integer(Self.now + 10))
        try check(claims(exp), { $0.type = "jwt" })
        try check(claims(exp), { $0.type = "application/JWT" })
        #expect(throws: JWTError(.typeMismatch)) { try check(claims(exp), { $0.type = "at+jwt" }) }
    }
}
