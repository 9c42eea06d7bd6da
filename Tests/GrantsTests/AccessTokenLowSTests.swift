import Testing

@testable import Grants
@testable import JWT

@Suite("Access tokens have one accepted text: the high-S twin of an ES256 signature is refused")
struct AccessTokenLowSTests {
    @Test("the twin verifies as a JWS but the access-token verifier refuses it")
    func twinRefused() throws {
        let key = try JWTKey.generate(.es256, keyID: "k1")
        let issuer = try AccessTokenIssuer(key: key, issuer: "https://site.example")
        let (token, _) = try issuer.issue(
            subject: "alice", clientID: "c", appKey: "com.example.app", grant: .jwtBearer, scopes: ["READ"],
            lifetime: 600)
        let verifier = AccessTokenVerifier(keys: [key], issuer: "https://site.example")
        #expect(throws: Never.self) { try verifier.verify(token) }
        let parts = token.split(separator: ".")
        let signature = try Base64URL.decode(String(parts[2]))
        let twinSignature = ECDSASignature.twin(signature, curve: .p256)
        let twin = parts[0] + "." + parts[1] + "." + Base64URL.encode(twinSignature)
        #expect(throws: Never.self) { try JWTVerifier(key: key, rules: ClaimRules()).verify(twin) }
        #expect(throws: JWTError(.invalidSignature, "")) { try verifier.verify(twin) }
    }
}
