import Testing

@testable import JWT

@Suite("ECDSA signatures have one text: only low-S is issued, and the twin is told apart")
struct LowSTests {
    @Test(
        "every ES256, ES384 and ES512 signature made here has S at most n/2",
        arguments: [JWSAlgorithm.es256, .es384, .es512])
    func issuedLowS(algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let curve = try #require(EllipticCurve(for: algorithm))
        for index in 0..<64 {
            let input = Array("signing input \(index)".utf8)
            let signature = try key.sign(input)
            #expect(ECDSASignature.hasLowS(signature, curve: curve))
            #expect(key.isCanonical(signature: signature))
        }
    }

    @Test("the (R, n-S) twin verifies alike but is not canonical", arguments: [JWSAlgorithm.es256, .es384, .es512])
    func twin(algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let curve = try #require(EllipticCurve(for: algorithm))
        let input = Array("payload".utf8)
        let signature = try key.sign(input)
        let twin = ECDSASignature.twin(signature, curve: curve)
        #expect(input.withUnsafeBytes { key.verify(signature: twin, signingInput: $0) }, "ECDSA is malleable")
        #expect(!key.isCanonical(signature: twin))
        #expect(ECDSASignature.withLowS(twin, curve: curve) == signature)
    }
}
