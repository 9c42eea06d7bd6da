import Foundation
import JWT
import Testing

/// ECDSA is malleable: (R, n−S) verifies like (R, S). The gateway issues only
/// low-S access tokens and accepts only them, so each token has one text
/// (docs/grants.md, "Access tokens").
@Suite("Hardening: the high-S twin of an access token")
struct AccessTokenTwinTests {
    /// The order n of P-256 (SEC 2 §2.4.2).
    static let p256Order: [UInt8] = Array(
        hex: "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")

    @Test("the twin verifies with the published key, and the gateway refuses it with 401")
    func twinRefused() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()
        let jwks = try await fixture.send(.GET, "/.well-known/jwks.json")
        let keyJSON = try JSONValue.parse(jwks.body)
        let key = try JWTKey.jwk(try #require(keyJSON["keys"]?.arrayValue?.first))
        let parts = token.split(separator: ".")
        let signature = try Base64URL.decode(String(parts[2]))
        var s = Array(signature[32...])
        var borrow = 0
        for index in s.indices.reversed() {
            let difference = Int(Self.p256Order[index]) - Int(s[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            s[index] = UInt8((difference + 256) % 256)
        }
        let twin = parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(signature[..<32]) + s)
        #expect(throws: Never.self) { try JWTVerifier(key: key).verify(twin) }
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token).status == 200)
        let reply = try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: twin)
        #expect(reply.status == 401)
        #expect(reply.json["error"] as? String == "invalid_token")
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}
