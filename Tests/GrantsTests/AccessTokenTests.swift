import JWT
import Testing

@testable import Grants

@Suite("Access tokens (RFC 9068): issue, verify, publish")
struct AccessTokenTests {
    static let site = "http://127.0.0.1:8080"
    let key = try! JWTKey.generate(.es256, keyID: "key-1")

    func issue(lifetime: Int64 = 900, now: Int64 = UnixTime.now()) throws -> (token: String, claims: AccessToken) {
        try AccessTokenIssuer(key: key, issuer: Self.site).issue(
            subject: "5b10ac8d82e05b22cc7d4ef5", clientID: "automation-2loi-client", appKey: "com.example.automation",
            grant: .jwtBearer, scopes: ["READ", "WRITE"], lifetime: lifetime, now: now)
    }

    @Test("an issued token verifies back to the same claims, with typ at+jwt, ES256 and the kid")
    func roundTrip() throws {
        let (token, claims) = try issue()
        let verified = try AccessTokenVerifier(keys: [key], issuer: Self.site).verify(token)
        #expect(verified == claims)
        #expect(verified.scopes == ["READ", "WRITE"])
        #expect(verified.expiresAt - verified.issuedAt == 900)
        #expect(verified.tokenID.count == 28, "a time-ordered id: 12 hex digits of time, 96 random bits")
        let header = try UnverifiedJWT(decoding: token).header
        #expect(header["typ"]?.stringValue == "at+jwt")
        #expect(header["alg"]?.stringValue == "ES256")
        #expect(header["kid"]?.stringValue == "key-1")
    }

    @Test("each token has its own jti")
    func uniqueIDs() throws {
        #expect(try issue().claims.tokenID != issue().claims.tokenID)
    }

    @Test("time-ordered ids sort by the time they were made, differ within one millisecond, and are URL-safe")
    func timeOrderedIDs() {
        let now: Int64 = 1_796_000_000_123
        let earlier = TimeOrderedID.make(milliseconds: now)
        let later = TimeOrderedID.make(milliseconds: now + 1)
        #expect(earlier.hasPrefix("01a229f1287b"))
        #expect(earlier < later)
        #expect(TimeOrderedID.make(milliseconds: 255) < TimeOrderedID.make(milliseconds: 256))
        let sameMillisecond = (0..<1_000).map { _ in TimeOrderedID.make(milliseconds: now) }
        #expect(Set(sameMillisecond).count == 1_000)
        #expect(sameMillisecond.allSatisfy { $0.count == 28 && $0.hasPrefix("01a229f1287b") })
        let urlSafe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        #expect(sameMillisecond.allSatisfy { $0.allSatisfy(urlSafe.contains) })
        #expect(RefreshToken.family(of: RefreshToken.make(family: earlier)) == earlier)
    }

    @Test("expired, foreign-key, foreign-issuer and plain-JWT tokens are refused with their codes")
    func refusals() throws {
        let verifier = AccessTokenVerifier(keys: [key], issuer: Self.site)
        let expired = try issue(lifetime: 60, now: UnixTime.now() - 3600).token
        #expect(throws: JWTError(.expired)) { try verifier.verify(expired) }

        let other = try JWTKey.generate(.es256, keyID: "key-1")
        let forged = try AccessTokenIssuer(key: other, issuer: Self.site).issue(
            subject: "x", clientID: "c", appKey: "a", grant: .jwtBearer, scopes: [], lifetime: 60
        ).token
        #expect(throws: JWTError(.invalidSignature)) { try verifier.verify(forged) }

        let elsewhere = try AccessTokenIssuer(key: key, issuer: "https://evil.example").issue(
            subject: "x", clientID: "c", appKey: "a", grant: .jwtBearer, scopes: [], lifetime: 60
        ).token
        #expect(throws: JWTError.self) { try verifier.verify(elsewhere) }

        // Same key and claims, but typ JWT: not an access token (RFC 9068 §4).
        let plain = try JWTSigner(key: key).sign(try issue().claims.claims)
        #expect(throws: JWTError.self) { try verifier.verify(plain) }
    }

    @Test("a 3LO token carries its grant's tag through signing; a tag on another grant's token is refused")
    func grantTag() throws {
        let issuer = try AccessTokenIssuer(key: key, issuer: Self.site)
        let verifier = AccessTokenVerifier(keys: [key], issuer: Self.site)
        let claims = issuer.claims(
            subject: "alice", clientID: "a-3lo", appKey: "app.a", grant: .authorizationCode, scopes: ["read"],
            lifetime: 60, grantTag: "tag-1")
        #expect(try verifier.verify(try issuer.sign(claims)).grantTag == "tag-1")
        let untagged = issuer.claims(
            subject: "alice", clientID: "a-3lo", appKey: "app.a", grant: .authorizationCode, scopes: ["read"],
            lifetime: 60)
        #expect(try verifier.verify(try issuer.sign(untagged)).grantTag == nil)
        var bearer = try issue().claims.claims
        bearer["grant_tag"] = .string("tag-1")
        #expect(throws: JWTError(.invalidClaim)) {
            let signer = JWTSigner(key: key, type: AccessTokenIssuer.type)
            try verifier.verify(try signer.sign(bearer, type: AccessTokenIssuer.type))
        }
    }

    @Test("the revocation list refuses every token carrying a revoked grant tag, and no other")
    func revokedGrantTag() {
        let list = RevocationList()
        let now = UnixTime.now()
        func token(tag: String?) -> AccessToken {
            AccessToken(
                tokenID: SecureRandom.identifier(), issuer: Self.site, audience: Self.site, subject: "alice",
                clientID: "a-3lo", appKey: "app.a", grant: .authorizationCode, scopes: [], issuedAt: now,
                expiresAt: now + 60, grantTag: tag)
        }
        let first = token(tag: "t1")
        let second = token(tag: "t1")
        let other = token(tag: "t2")
        let untagged = token(tag: nil)
        list.insert([Revocation(tokenID: RevokedCredential.grant(tag: "t1"), expiresAt: now + 60)])
        #expect(list.contains(first) && list.contains(second))
        #expect(!list.contains(other) && !list.contains(untagged))
        #expect(list.contains(RevokedCredential.grant(tag: "t1")))
        #expect(!list.contains("t1"), "a tag is not a jti")
        list.insert([Revocation(tokenID: untagged.tokenID, expiresAt: now + 60)])
        #expect(list.contains(untagged) && list.count == 2)
        list.prune(now: now + 60 + 301)
        #expect(list.count == 0 && !list.contains(first))
    }

    @Test("a key without kid or without its private half cannot issue")
    func issuerKeys() throws {
        let anonymous = try JWTKey.generate(.es256)
        #expect(throws: JWTError(.invalidKey)) { try AccessTokenIssuer(key: anonymous, issuer: Self.site) }
        let publicOnly = try JWTKey.pem(try #require(key.publicKeyPEM()), algorithm: .es256, keyID: "key-1")
        #expect(throws: JWTError(.keyCannotSign)) { try AccessTokenIssuer(key: publicOnly, issuer: Self.site) }
    }

    @Test("the JWKS document publishes the public key with its kid, and it verifies the tokens")
    func publishedKeys() throws {
        let document = PublishedKeys.document([key])
        let published = try #require(document["keys"]?.arrayValue?.first)
        #expect(published["kid"]?.stringValue == "key-1")
        #expect(published["d"] == nil, "never the private key")
        let set = try JWKSet(document)
        let verifier = AccessTokenVerifier(keys: set.keys, issuer: Self.site)
        #expect(try verifier.verify(issue().token).subject == "5b10ac8d82e05b22cc7d4ef5")
    }
}
