import Testing

@testable import JWT

@Suite("Signing over prepared contexts: the key read once, one EVP_DigestSign a signature, from many tasks at once")
struct DigestSignerTests {
    static let asymmetric: [JWSAlgorithm] = [.es256, .es384, .es512, .rs256, .ps256, .ps512, .edDSA]

    /// The key's public half alone, as a verifier elsewhere would hold it.
    static func publicHalf(of key: JWTKey) throws -> JWTKey {
        try JWTKey.pem(try #require(key.publicKeyPEM()), algorithm: key.algorithm)
    }

    @Test("every signature verifies with the public key alone, context after context", arguments: asymmetric)
    func signaturesVerify(algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let verifier = try Self.publicHalf(of: key)
        // More signatures than one context: each reuses a re-armed one, whose digest
        // (and, for PS*, padding) must start afresh every time.
        for index in 0..<40 {
            let input = Array("header.payload-\(index)-".utf8) + Array(repeating: UInt8(index), count: index * 7)
            let signature = try key.sign(input)
            #expect(verifier.verify(signature: signature, signingInput: input), "signature \(index)")
            #expect(!verifier.verify(signature: signature, signingInput: input + [0]), "signature \(index) on more")
            #expect(key.isCanonical(signature: signature))
        }
    }

    @Test("ES256 signs the same input twice with two nonces: two texts, both verify, both low-S")
    func freshNonce() throws {
        let key = try JWTKey.generate(.es256)
        let input = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0".utf8)
        let first = try key.sign(input)
        let second = try key.sign(input)
        #expect(first.count == 64 && second.count == 64)
        #expect(first != second)
        #expect(key.verify(signature: first, signingInput: input))
        #expect(key.verify(signature: second, signingInput: input))
    }

    @Test(
        "many tasks sign at once with one key; every signature verifies",
        arguments: [JWSAlgorithm.es256, .ps256, .edDSA])
    func concurrentSigning(algorithm: JWSAlgorithm) async throws {
        let key = try JWTKey.generate(algorithm)
        let verifier = try Self.publicHalf(of: key)
        let count = algorithm == .ps256 ? 64 : 400
        let results = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in 0..<count {
                group.addTask { (index, try key.sign(Array("token \(index)".utf8))) }
            }
            return try await group.reduce(into: [(Int, [UInt8])]()) { $0.append($1) }
        }
        #expect(results.count == count)
        for (index, signature) in results {
            #expect(verifier.verify(signature: signature, signingInput: Array("token \(index)".utf8)), "token \(index)")
        }
    }

    @Test("a key read from PEM signs; a renamed copy shares it and names its new kid")
    func pemAndRenamedKey() throws {
        let key = try JWTKey.pem(KeyFixtures.text("ec-p256-sec1-private.pem"), algorithm: .es256)
        let renamed = key.withKeyID("lg-1")
        #expect(renamed.keyID == "lg-1" && key.keyID == nil)
        let publicKey = try JWTKey.pem(KeyFixtures.text("ec-p256-spki-public.pem"), algorithm: .es256)
        let input = Array("a.b".utf8)
        #expect(publicKey.verify(signature: try key.sign(input), signingInput: input))
        #expect(publicKey.verify(signature: try renamed.sign(input), signingInput: input))
        let token = try JWTSigner(key: renamed).sign(JSONObject([("sub", "x")]))
        #expect(try CompactJWS(parsing: token).header.keyID == "lg-1")
    }

    @Test("a public key cannot sign")
    func publicKeyCannotSign() throws {
        let key = try Self.publicHalf(of: try JWTKey.generate(.es256))
        #expect(throws: JWTError(.keyCannotSign)) { try key.sign(Array("a.b".utf8)) }
    }

    @Test("the prepared header is the one a header built per token would be; other types and extra members still apply")
    func preparedHeader() throws {
        let key = try JWTKey.generate(.es256, keyID: "k1")
        let verifier = JWTVerifier(keys: [key], rules: ClaimRules())
        let signer = JWTSigner(key: key, type: "at+jwt")
        let claims = JSONObject([("sub", "alice"), ("exp", .integer(UnixTime.now() + 60))])
        let prepared = try CompactJWS(parsing: try signer.sign(claims, type: "at+jwt"))
        #expect(prepared.header.type == "at+jwt" && prepared.header.keyID == "k1")
        #expect(prepared.isSigned(by: key))
        let plain = try CompactJWS(parsing: try signer.sign(claims))
        #expect(plain.header.type == "JWT")
        let untyped = try CompactJWS(parsing: try signer.sign(claims, type: nil))
        #expect(untyped.header.type == nil)
        let extra = try signer.sign(claims, type: "at+jwt", extraHeader: JSONObject([("cty", "x"), ("alg", "none")]))
        let parsed = try CompactJWS(parsing: extra)
        #expect(parsed.header.algorithm == .es256, "extra members cannot override alg")
        _ = try verifier.verify(extra)
    }
}

@Suite("ECDSA signatures from DER to JWS form, in place")
struct ECDSADERTests {
    static func jws(_ der: [UInt8], curve: EllipticCurve = .p256) -> [UInt8]? {
        var output = [UInt8](repeating: 0xAA, count: 2 * curve.coordinateSize)
        let ok = der.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { ECDSASignature.jwsForm(ofDER: input, curve: curve, into: $0) }
        }
        return ok ? output : nil
    }

    /// A DER INTEGER of `bytes` (positive: a leading zero when the top bit is set).
    static func integer(_ bytes: [UInt8]) -> [UInt8] {
        let content = bytes.first.map { $0 & 0x80 != 0 } == true ? [0] + bytes : bytes
        return [0x02, UInt8(content.count)] + content
    }

    static func sequence(_ content: [UInt8]) -> [UInt8] {
        content.count < 0x80 ? [0x30, UInt8(content.count)] + content : [0x30, 0x81, UInt8(content.count)] + content
    }

    @Test("R and S are zero-padded to the curve's width; a leading zero byte is dropped")
    func padding() throws {
        let r: [UInt8] = [0x01, 0x02]
        // Top bit set, so DER writes a zero before it; far below n/2, so kept as it is.
        let s: [UInt8] = [0x80] + Array(repeating: 0x11, count: 10)
        let output = try #require(Self.jws(Self.sequence(Self.integer(r) + Self.integer([0x7F, 0x01]))))
        #expect(output[..<32] == ArraySlice(Array(repeating: 0, count: 30) + r))
        #expect(output[32...] == ArraySlice(Array(repeating: 0, count: 30) + [0x7F, 0x01]))
        let high = try #require(Self.jws(Self.sequence(Self.integer(r) + Self.integer(s))))
        #expect(high[32...] == ArraySlice(Array(repeating: 0, count: 21) + s))
    }

    @Test("a high S becomes n−S: the issued twin is the canonical one")
    func highS() throws {
        let order = ECDSASignature.order(of: .p256)
        var s = order
        s[31] -= 1  // n − 1: the highest S there is
        let output = try #require(Self.jws(Self.sequence(Self.integer([5]) + Self.integer(s))))
        #expect(output[32...] == ArraySlice(Array(repeating: 0, count: 31) + [1]))
        #expect(ECDSASignature.hasLowS(output, curve: .p256))
    }

    @Test("P-521's signatures need the long form of the SEQUENCE length")
    func longForm() throws {
        let r = [UInt8(0x01)] + Array(repeating: 0x22, count: 65)
        let s = [UInt8(0x00)] + Array(repeating: 0x33, count: 65)
        let der = Self.sequence(Self.integer(r) + Self.integer(Array(s.drop(while: { $0 == 0 }))))
        #expect(der[1] == 0x81)
        let output = try #require(Self.jws(der, curve: .p521))
        #expect(Array(output[..<66]) == r)
        #expect(Array(output[66...]) == s)
    }

    @Test(
        "anything but one SEQUENCE of two non-negative INTEGERs that fit is refused",
        arguments: [
            [UInt8](),
            [0x30, 0x00],
            [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // a SET
            [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // length says one more byte
            [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],  // a trailing byte
            [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x81],  // a negative S
            [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x01],  // an OCTET STRING
            [0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00],  // an empty INTEGER
            [0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // long form for a short length
            [0x30, 0x82, 0x00, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],  // two length bytes
            // R wider than P-256's 32 bytes.
            ECDSADERTests.sequence(
                ECDSADERTests.integer(Array(repeating: 0x01, count: 33)) + ECDSADERTests.integer([1])),
        ])
    func refused(der: [UInt8]) {
        #expect(Self.jws(der) == nil)
    }
}
