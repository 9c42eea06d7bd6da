import Foundation
import JWT
import Testing

/// One published JWS example: a JWK, and a compact token signed with it.
struct PublishedVector: CustomTestStringConvertible, Sendable {
    let name: String
    let algorithm: JWSAlgorithm
    let jwk: JSONValue
    let signingInput: String
    let signature: [UInt8]

    var testDescription: String { name }

    /// RFC 7515 Appendix A.1–A.4 and RFC 8037 §A.4, from Fixtures/rfc-vectors.json.
    static let all: [PublishedVector] = {
        let document = try! JSONValue.parse(KeyFixtures.bytes("rfc-vectors.json"))
        return document.arrayValue!.map { entry in
            // Split the compact token here: header.payload is the signing input (RFC 7515 §5.2).
            let token = entry["token"]!.stringValue!
            let lastDot = token.lastIndex(of: ".")!
            return PublishedVector(
                name: entry["name"]!.stringValue!,
                algorithm: JWSAlgorithm(rawValue: entry["alg"]!.stringValue!)!,
                jwk: entry["jwk"]!,
                signingInput: String(token[..<lastDot]),
                signature: try! Base64URL.decode(token[token.index(after: lastDot)...])
            )
        }
    }()
}

/// A signature made by another implementation (the openssl command line).
struct InteropSignature: CustomTestStringConvertible, Sendable {
    let name: String
    let algorithm: JWSAlgorithm
    let publicKeyFile: String
    let signingInput: String
    let signature: [UInt8]
    let valid: Bool

    var testDescription: String { name }

    static let all: [InteropSignature] = {
        let document = try! JSONValue.parse(KeyFixtures.bytes("interop-signatures.json"))
        return document.arrayValue!.map { entry in
            InteropSignature(
                name: entry["name"]!.stringValue!,
                algorithm: JWSAlgorithm(rawValue: entry["alg"]!.stringValue!)!,
                publicKeyFile: entry["publicKey"]!.stringValue!,
                signingInput: entry["signingInput"]!.stringValue!,
                signature: try! Base64URL.decode(entry["signature"]!.stringValue!),
                valid: entry["valid"]!.boolValue!
            )
        }
    }()
}

@Suite("JWS algorithms")
struct AlgorithmTests {
    @Test("published examples verify", arguments: PublishedVector.all)
    func publishedExampleVerifies(_ vector: PublishedVector) throws {
        let key = try JWTKey.jwk(vector.jwk, algorithm: vector.algorithm)
        #expect(key.verify(signature: vector.signature, signingInput: Array(vector.signingInput.utf8)))
        #expect(key.verify(signature: vector.signature, signingInput: vector.signingInput.utf8))
        if let publicJWK = key.publicJWK() {
            let publicKey = try JWTKey.jwk(publicJWK)
            #expect(!publicKey.canSign)
            #expect(publicKey.verify(signature: vector.signature, signingInput: vector.signingInput.utf8))
        }
    }

    @Test(
        "deterministic algorithms reproduce the published signature",
        arguments: PublishedVector.all.filter { $0.algorithm.family != .ecdsa })
    func deterministicSignatureMatches(_ vector: PublishedVector) throws {
        let key = try JWTKey.jwk(vector.jwk, algorithm: vector.algorithm)
        // Repeated, so HMAC also runs on pooled, re-armed contexts, not only fresh copies.
        for _ in 0..<3 {
            #expect(try key.sign(vector.signingInput.utf8) == vector.signature)
        }
    }

    @Test("a published example fails once a byte of its input changes", arguments: PublishedVector.all)
    func publishedExampleTampered(_ vector: PublishedVector) throws {
        let key = try JWTKey.jwk(vector.jwk, algorithm: vector.algorithm)
        var input = Array(vector.signingInput.utf8)
        input[input.count / 2] ^= 0x01
        #expect(!key.verify(signature: vector.signature, signingInput: input))
    }

    @Test("signatures from the openssl command line", arguments: InteropSignature.all)
    func interoperates(_ case_: InteropSignature) throws {
        let key = try JWTKey.pem(KeyFixtures.text(case_.publicKeyFile), algorithm: case_.algorithm)
        #expect(key.verify(signature: case_.signature, signingInput: case_.signingInput.utf8) == case_.valid)
    }

    @Test("sign then verify with a generated key", arguments: JWSAlgorithm.allCases)
    func roundTrip(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm, keyID: "k1")
        let input = Array("eyJhbGciOiJ4In0.eyJzdWIiOiJyb3VuZC10cmlwIn0".utf8)
        let signature = try key.sign(input)
        #expect(key.canSign)
        #expect(key.keyID == "k1")
        #expect(key.verify(signature: signature, signingInput: input))
        #expect(signature.count == Self.signatureSize(algorithm))
    }

    @Test("a tampered input or signature fails", arguments: JWSAlgorithm.allCases)
    func tampering(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let input = Array("header.payload".utf8)
        let signature = try key.sign(input)
        for index in [0, input.count - 1] {
            var changed = input
            changed[index] ^= 0x20
            #expect(!key.verify(signature: signature, signingInput: changed))
        }
        for index in [0, signature.count / 2, signature.count - 1] {
            var changed = signature
            changed[index] ^= 0x01
            #expect(!key.verify(signature: changed, signingInput: input))
        }
        #expect(!key.verify(signature: [], signingInput: input))
        #expect(!key.verify(signature: signature + [0], signingInput: input))
    }

    @Test("a signature from another key of the same algorithm fails", arguments: JWSAlgorithm.allCases)
    func otherKey(_ algorithm: JWSAlgorithm) throws {
        let signer = try JWTKey.generate(algorithm)
        let other = try JWTKey.generate(algorithm)
        let signature = try signer.sign("a.b".utf8)
        #expect(!other.verify(signature: signature, signingInput: "a.b".utf8))
    }

    @Test("PEM export and import keep the key", arguments: JWSAlgorithm.allCases.filter { $0.family != .hmac })
    func pemRoundTrip(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let privatePEM = try #require(key.privateKeyPEM())
        let publicPEM = try #require(key.publicKeyPEM())
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let reloaded = try JWTKey.pem(privatePEM, algorithm: algorithm)
        let verifier = try JWTKey.pem(publicPEM, algorithm: algorithm)
        #expect(verifier.privateKeyPEM() == nil)
        let signature = try reloaded.sign("x.y".utf8)
        #expect(verifier.verify(signature: signature, signingInput: "x.y".utf8))
        #expect(key.verify(signature: signature, signingInput: "x.y".utf8))
    }

    @Test("JWK export and import keep the public key", arguments: JWSAlgorithm.allCases.filter { $0.family != .hmac })
    func jwkRoundTrip(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm, keyID: "rotating-1")
        let jwk = try #require(key.publicJWK())
        #expect(jwk["alg"] == .string(algorithm.rawValue))
        #expect(jwk["use"] == "sig")
        #expect(jwk["kid"] == "rotating-1")
        #expect(jwk["d"] == nil)
        let verifier = try JWTKey.jwk(JSONValue.parse(jwk.serialized()))
        #expect(verifier.algorithm == algorithm)
        #expect(verifier.keyID == "rotating-1")
        #expect(verifier.publicJWK() == jwk)
        let signature = try key.sign("x.y".utf8)
        #expect(verifier.verify(signature: signature, signingInput: "x.y".utf8))
    }

    @Test("ES signatures of the wrong length are invalid", arguments: [JWSAlgorithm.es256, .es384, .es512])
    func ecdsaLength(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let signature = try key.sign("a.b".utf8)
        #expect(!key.verify(signature: Array(signature.dropLast()), signingInput: "a.b".utf8))
        #expect(!key.verify(signature: [0] + signature, signingInput: "a.b".utf8))
        #expect(!key.verify(signature: [UInt8](repeating: 0, count: signature.count), signingInput: "a.b".utf8))
    }

    @Test("a public-only key cannot sign", arguments: JWSAlgorithm.allCases.filter { $0.family != .hmac })
    func publicKeyCannotSign(_ algorithm: JWSAlgorithm) throws {
        let key = try JWTKey.generate(algorithm)
        let verifier = try JWTKey.pem(#require(key.publicKeyPEM()), algorithm: algorithm)
        #expect(!verifier.canSign)
        #expect(throws: JWTError(.keyCannotSign)) { try verifier.sign("a.b".utf8) }
    }

    @Test("PS256 verification refuses a PKCS#1 v1.5 signature by the same key")
    func pssIsNotPKCS1() throws {
        let pkcs1 = try JWTKey.pem(KeyFixtures.text("rsa2048-pkcs8-private.pem"), algorithm: .rs256)
        let pss = try JWTKey.pem(KeyFixtures.text("rsa2048-spki-public.pem"), algorithm: .ps256)
        let signature = try pkcs1.sign("a.b".utf8)
        #expect(!pss.verify(signature: signature, signingInput: "a.b".utf8))
    }

    @Test("a key verifies from many threads at once", arguments: [JWSAlgorithm.hs256, .es256])
    func concurrentVerification(_ algorithm: JWSAlgorithm) async throws {
        let key = try JWTKey.generate(algorithm)
        let signature = try key.sign("a.b".utf8)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<200).allSatisfy { _ in key.verify(signature: signature, signingInput: "a.b".utf8) }
                }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(results)
    }

    private static func signatureSize(_ algorithm: JWSAlgorithm) -> Int {
        switch algorithm {
        case .hs256: 32
        case .hs384: 48
        case .hs512: 64
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: 256
        case .es256: 64
        case .es384: 96
        case .es512: 132
        case .edDSA: 64
        }
    }
}
