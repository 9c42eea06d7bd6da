import JWT
import Testing

@testable import Grants

@Suite("JWT bearer assertions (RFC 7523, docs/protocols.md §3)")
struct BearerAssertionTests {
    static let site = "http://127.0.0.1:8080"
    static let secret = Array("demo-only-automation-shared-secret-0123456789".utf8)
    let key = try! JWTKey.secret(BearerAssertionTests.secret, algorithm: .hs256)

    /// The verifier with a policy that knows one assertion client.
    struct Checker {
        let verifier: BearerAssertionVerifier
        let policy: FakeGrantPolicy

        func verify(_ assertion: String) throws(OAuthError) -> VerifiedAssertion {
            try verifier.verify(assertion, policy: policy)
        }
    }

    func verifier(enabled: Bool = true, canActAsUser: Bool = true, extraAudiences: [String] = []) -> Checker {
        let client = AssertionClient(
            appKey: "com.example.automation", key: key, enabled: enabled, canActAsUser: canActAsUser)
        return Checker(
            verifier: BearerAssertionVerifier(baseURL: Self.site, extraAudiences: extraAudiences),
            policy: FakeGrantPolicy(clients: ["automation-2loi-client": client]))
    }

    func assertion(_ change: (inout JSONObject) -> Void = { _ in }, key: JWTKey? = nil) throws -> String {
        let now = UnixTime.now()
        var claims = JSONObject()
        claims["iss"] = "urn:atlassian:connect:clientid:automation-2loi-client"
        claims["sub"] = "urn:atlassian:connect:useraccountid:5b10ac8d82e05b22cc7d4ef5"
        claims["tnt"] = .string(Self.site)
        claims["aud"] = .string(Self.site)
        claims["iat"] = .integer(now)
        claims["exp"] = .integer(now + 60)
        change(&claims)
        return try JWTSigner(key: key ?? self.key).sign(claims)
    }

    @Test("a well-formed assertion names the app and the user, keyed for replay by its hash")
    func valid() throws {
        let token = try assertion()
        let verified = try verifier().verify(token)
        #expect(verified.appKey == "com.example.automation")
        #expect(verified.clientID == "automation-2loi-client")
        #expect(verified.accountId == "5b10ac8d82e05b22cc7d4ef5")
        #expect(verified.replayKey == "sha256:" + Hex.lowercase(Digest.sha256.hash(Array(token.utf8))))
        let withID = try verifier().verify(try assertion { $0["jti"] = "abc" })
        #expect(withID.replayKey == "jti:com.example.automation:abc")
    }

    @Test("the exchanged token's jti is derived from the replay key: fixed, distinct, random-jti shaped")
    func exchangedTokenID() throws {
        let verified = try verifier().verify(try assertion { $0["jti"] = "abc" })
        #expect(verified.tokenID == AccessToken.exchangedTokenID(replayKey: "jti:com.example.automation:abc"))
        let digest = Digest.sha256.hash(Array("linkgate 2LOi token:jti:com.example.automation:abc".utf8))
        #expect(verified.tokenID == Base64URL.encode(digest.prefix(16)))
        #expect(verified.tokenID.count == SecureRandom.identifier().count)
        let keys = ["jti:a:1", "jti:a:2", "jti:b:1", "sha256:00", "sha256:01"]
        #expect(Set(keys.map { AccessToken.exchangedTokenID(replayKey: $0) }).count == keys.count)
    }

    @Test("the token endpoint's URL, a trailing slash and configured audiences are accepted as aud")
    func audiences() throws {
        #expect(throws: Never.self) {
            try verifier().verify(try assertion { $0["aud"] = .string(Self.site + "/oauth2/token") })
        }
        #expect(throws: Never.self) { try verifier().verify(try assertion { $0["aud"] = .string(Self.site + "/") }) }
        let atlassian = "https://auth.atlassian.io"
        #expect(throws: OAuthError(.invalidGrant, "")) {
            try verifier().verify(try assertion { $0["aud"] = .string(atlassian) })
        }
        #expect(throws: Never.self) {
            try verifier(extraAudiences: [atlassian]).verify(try assertion { $0["aud"] = .string(atlassian) })
        }
    }

    @Test("every broken assertion is invalid_grant; an app that may not impersonate is unauthorized_client")
    func refusals() throws {
        let now = UnixTime.now()
        let invalid: [(String, String)] = [
            ("not a JWT", "abc"),
            ("issuer without the prefix", try assertion { $0["iss"] = "automation-2loi-client" }),
            ("unknown client", try assertion { $0["iss"] = "urn:atlassian:connect:clientid:nobody" }),
            (
                "wrong secret",
                try assertion(key: try JWTKey.secret(Array(repeating: 0x61, count: 40), algorithm: .hs256))
            ),
            ("lifetime over 60 s", try assertion { $0["exp"] = .integer(now + 120) }),
            (
                "expired",
                try assertion {
                    $0["iat"] = .integer(now - 600)
                    $0["exp"] = .integer(now - 560)
                }
            ),
            ("no iat", try assertion { $0["iat"] = nil }),
            ("no exp", try assertion { $0["exp"] = nil }),
            ("wrong tenant", try assertion { $0["tnt"] = "https://other.example" }),
            ("no tenant", try assertion { $0["tnt"] = nil }),
            ("subject without the prefix", try assertion { $0["sub"] = "5b10ac8d82e05b22cc7d4ef5" }),
            ("empty account id", try assertion { $0["sub"] = "urn:atlassian:connect:useraccountid:" }),
        ]
        for (name, token) in invalid {
            #expect(throws: OAuthError(.invalidGrant, ""), "\(name)") { try verifier().verify(token) }
        }
        #expect(throws: OAuthError(.unauthorizedClient, "")) {
            try verifier(canActAsUser: false).verify(try assertion())
        }
        #expect(throws: OAuthError(.unauthorizedClient, "")) { try verifier(enabled: false).verify(try assertion()) }
    }

    @Test("OAuth errors carry RFC 6749 codes and statuses")
    func errors() {
        #expect(OAuthError(.invalidClient, "x").status == 401)
        #expect(OAuthError(.invalidGrant, "x").status == 400)
        #expect(OAuthError(.invalidGrant, "replayed").description == "invalid_grant: replayed")
    }
}
