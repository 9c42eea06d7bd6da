import Foundation
import JWT
import Testing

/// Files under Tests/JWTTests/Fixtures, copied into the test bundle.
enum KeyFixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    static func bytes(_ name: String) -> [UInt8] {
        Array(try! Data(contentsOf: url(name)))
    }

    static func text(_ name: String) -> String {
        String(decoding: bytes(name), as: UTF8.self)
    }
}

@Suite("Keys")
struct KeyTests {
    struct PEMCase: CustomTestStringConvertible, Sendable {
        let file: String
        let algorithm: JWSAlgorithm
        let canSign: Bool
        var testDescription: String { "\(file) as \(algorithm.rawValue)" }
    }

    static let readablePEMs = [
        PEMCase(file: "rsa2048-spki-public.pem", algorithm: .rs256, canSign: false),
        PEMCase(file: "rsa2048-pkcs1-public.pem", algorithm: .ps384, canSign: false),
        PEMCase(file: "rsa2048-pkcs8-private.pem", algorithm: .rs512, canSign: true),
        PEMCase(file: "rsa2048-pkcs1-private.pem", algorithm: .ps256, canSign: true),
        PEMCase(file: "ec-p256-sec1-private.pem", algorithm: .es256, canSign: true),
        PEMCase(file: "ec-p256-spki-public.pem", algorithm: .es256, canSign: false),
        PEMCase(file: "ec-p384-pkcs8-private.pem", algorithm: .es384, canSign: true),
        PEMCase(file: "ec-p521-pkcs8-private.pem", algorithm: .es512, canSign: true),
        PEMCase(file: "ed25519-pkcs8-private.pem", algorithm: .edDSA, canSign: true),
        PEMCase(file: "ed25519-spki-public.pem", algorithm: .edDSA, canSign: false),
    ]

    @Test("every supported PEM form loads", arguments: readablePEMs)
    func pemLoads(_ case_: PEMCase) throws {
        let key = try JWTKey.pem(KeyFixtures.text(case_.file), algorithm: case_.algorithm, keyID: "pem")
        #expect(key.algorithm == case_.algorithm)
        #expect(key.keyID == "pem")
        #expect(key.canSign == case_.canSign)
        #expect(key.publicKeyPEM() != nil)
        #expect((key.privateKeyPEM() != nil) == case_.canSign)
    }

    static let mismatchedPEMs = [
        PEMCase(file: "ec-p256-spki-public.pem", algorithm: .rs256, canSign: false),
        PEMCase(file: "rsa2048-spki-public.pem", algorithm: .es256, canSign: false),
        PEMCase(file: "ed25519-spki-public.pem", algorithm: .es256, canSign: false),
        PEMCase(file: "ec-p384-pkcs8-private.pem", algorithm: .es256, canSign: false),
        PEMCase(file: "ec-p256-sec1-private.pem", algorithm: .es512, canSign: false),
        PEMCase(file: "rsa2048-pkcs8-private.pem", algorithm: .edDSA, canSign: false),
        PEMCase(file: "ed25519-pkcs8-private.pem", algorithm: .ps256, canSign: false),
        PEMCase(file: "rsa2048-spki-public.pem", algorithm: .hs256, canSign: false),
    ]

    @Test("a PEM key of the wrong family is refused", arguments: mismatchedPEMs)
    func pemWrongFamily(_ case_: PEMCase) {
        #expect(throws: JWTError(.keyAlgorithmMismatch)) {
            try JWTKey.pem(KeyFixtures.text(case_.file), algorithm: case_.algorithm)
        }
    }

    @Test("RSA keys under 2048 bits are refused", arguments: [JWSAlgorithm.rs256, .ps256])
    func smallRSA(_ algorithm: JWSAlgorithm) {
        #expect(throws: JWTError(.invalidKey)) {
            try JWTKey.pem(KeyFixtures.text("rsa1024-public.pem"), algorithm: algorithm)
        }
    }

    @Test(
        "unreadable PEM is refused",
        arguments: [
            "",
            "not a key",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ])
    func unreadablePEM(_ text: String) {
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.pem(text, algorithm: .rs256) }
    }

    @Test("two PEM blocks are refused: which key was meant is ambiguous")
    func twoPEMBlocks() {
        let text = KeyFixtures.text("rsa2048-spki-public.pem") + KeyFixtures.text("rsa2048-pkcs1-public.pem")
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.pem(text, algorithm: .rs256) }
    }

    // MARK: HMAC secrets

    @Test(
        "key material given as an HMAC secret is refused",
        arguments: [
            "rsa2048-spki-public.pem", "rsa2048-pkcs1-public.pem", "ec-p256-sec1-private.pem",
            "ed25519-spki-public.pem",
        ])
    func pemAsSecret(_ file: String) {
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.secret(KeyFixtures.bytes(file)) }
    }

    @Test(
        "a JWK or SSH key given as an HMAC secret is refused",
        arguments: [
            #"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
            "  {\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3XmB0y user@host",
        ])
    func documentAsSecret(_ text: String) {
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.secret(Array(text.utf8), algorithm: .hs384) }
    }

    @Test("an empty HMAC secret is refused")
    func emptySecret() {
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.secret([UInt8]()) }
    }

    @Test("an HMAC secret is only for HS algorithms", arguments: [JWSAlgorithm.rs256, .es256, .edDSA])
    func secretForAsymmetric(_ algorithm: JWSAlgorithm) {
        #expect(throws: JWTError(.keyAlgorithmMismatch)) {
            try JWTKey.secret(Array("s3cr3t-s3cr3t".utf8), algorithm: algorithm)
        }
    }

    @Test("an HMAC key has no public form")
    func hmacHasNoPublicForm() throws {
        let key = try JWTKey.secret(Array("a shared secret of some length".utf8), algorithm: .hs512, keyID: "h")
        #expect(key.canSign)
        #expect(key.publicJWK() == nil)
        #expect(key.publicKeyPEM() == nil)
        #expect(key.privateKeyPEM() == nil)
    }
}
