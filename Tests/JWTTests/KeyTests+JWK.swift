import JWT
import Testing

@Suite("JWK and JWKS")
struct JWKTests {
    static let ed25519Public: JSONValue = [
        "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    ]
    static let p256Public: JSONValue = [
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    ]

    static func with(_ jwk: JSONValue, _ changes: [(String, JSONValue?)]) -> JSONValue {
        var object = jwk.objectValue!
        for (key, value) in changes { object[key] = value }
        return .object(object)
    }

    @Test("alg comes from the JWK or the caller, and they must agree")
    func algorithmPinning() throws {
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.jwk(Self.ed25519Public) }
        #expect(try JWTKey.jwk(Self.ed25519Public, algorithm: .edDSA).algorithm == .edDSA)
        let withAlg = Self.with(Self.p256Public, [("alg", "ES256")])
        #expect(try JWTKey.jwk(withAlg).algorithm == .es256)
        #expect(throws: JWTError(.keyAlgorithmMismatch)) { try JWTKey.jwk(withAlg, algorithm: .es384) }
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.jwk(Self.with(Self.p256Public, [("alg", "none")])) }
    }

    @Test(
        "a JWK whose type does not fit the algorithm is refused",
        arguments: [JWSAlgorithm.es384, .rs256, .hs256, .edDSA])
    func wrongFamily(_ algorithm: JWSAlgorithm) {
        #expect(throws: JWTError(.keyAlgorithmMismatch)) { try JWTKey.jwk(Self.p256Public, algorithm: algorithm) }
    }

    @Test("kid and use")
    func kidAndUse() throws {
        let key = try JWTKey.jwk(Self.with(Self.p256Public, [("kid", "2024-01"), ("use", "sig")]), algorithm: .es256)
        #expect(key.keyID == "2024-01")
        #expect(throws: JWTError(.invalidKey)) {
            try JWTKey.jwk(Self.with(Self.p256Public, [("use", "enc")]), algorithm: .es256)
        }
        #expect(throws: JWTError(.invalidKey)) {
            try JWTKey.jwk(Self.with(Self.p256Public, [("kid", 7)]), algorithm: .es256)
        }
    }

    @Test(
        "malformed JWKs are refused",
        arguments: [
            with(p256Public, [("y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1")]),  // off the curve
            with(p256Public, [("x", "AAAA")]),  // short coordinate
            with(p256Public, [("crv", "secp256k1")]),
            with(p256Public, [("d", "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lM")]),  // d of another key
            with(p256Public, [("x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=")]),  // padded base64
            with(ed25519Public, [("crv", "X25519")]),
            with(ed25519Public, [("d", "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lM")]),  // d of another key
            with(p256Public, [("kty", "EC2")]),
            with(p256Public, [("kty", nil)]),
            ["kty": "RSA", "e": "AQAB"],
            "not an object",
        ])
    func malformed(_ jwk: JSONValue) {
        #expect(throws: JWTError.self) { try JWTKey.jwk(jwk, algorithm: .es256) }
    }

    @Test("an oct JWK is an HMAC key with the same guards")
    func octKey() throws {
        let key = try JWTKey.jwk(["kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "alg": "HS256"])
        let signature = try key.sign("a.b".utf8)
        #expect(
            try JWTKey.secret(Array("secret-secret-secret".utf8)).verify(signature: signature, signingInput: "a.b".utf8)
        )
        let pemInside = Base64URL.encode(KeyFixtures.bytes("rsa2048-spki-public.pem"))
        #expect(throws: JWTError(.invalidKey)) {
            try JWTKey.jwk(["kty": "oct", "k": .string(pemInside)], algorithm: .hs256)
        }
        #expect(throws: JWTError(.keyAlgorithmMismatch)) {
            try JWTKey.jwk(["kty": "oct", "k": "c2VjcmV0"], algorithm: .rs256)
        }
    }

    @Test("RSA private JWKs need all CRT members or none")
    func rsaCRT() throws {
        let a2 = PublishedVector.all.first { $0.algorithm == .rs256 }!.jwk
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.jwk(Self.with(a2, [("qi", nil)]), algorithm: .rs256) }
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.jwk(Self.with(a2, [("d", nil)]), algorithm: .rs256) }
        #expect(throws: JWTError(.invalidKey)) { try JWTKey.jwk(Self.with(a2, [("oth", [])]), algorithm: .rs256) }
        let public_ = try JWTKey.jwk(
            Self.with(a2, [("d", nil), ("p", nil), ("q", nil), ("dp", nil), ("dq", nil), ("qi", nil)]),
            algorithm: .rs256)
        #expect(!public_.canSign)
    }

    // MARK: JWKS

    static func document(_ keys: [JSONValue]) -> JSONValue { ["keys": .array(keys)] }

    @Test("a JWKS finds keys by kid")
    func lookup() throws {
        let es = try JWTKey.generate(.es256, keyID: "ec-1")
        let ed = try JWTKey.generate(.edDSA, keyID: "ed-1")
        let set = try JWKSet(Self.document([es.publicJWK()!, ed.publicJWK()!]))
        #expect(set.keys.count == 2)
        #expect(set.key(forKeyID: "ec-1")?.algorithm == .es256)
        #expect(set.key(forKeyID: "ed-1")?.algorithm == .edDSA)
        #expect(set.key(forKeyID: "missing") == nil)
        let signature = try ed.sign("a.b".utf8)
        #expect(set.key(forKeyID: "ed-1")!.verify(signature: signature, signingInput: "a.b".utf8))
    }

    @Test("a JWKS with a duplicate kid is refused")
    func duplicateKid() throws {
        let first = try JWTKey.generate(.es256, keyID: "same").publicJWK()!
        let second = try JWTKey.generate(.rs256, keyID: "same").publicJWK()!
        #expect(throws: JWTError(.invalidKey)) { try JWKSet(Self.document([first, second])) }
    }

    @Test("a JWKS key without alg is refused")
    func keyWithoutAlg() throws {
        let pinned = try JWTKey.generate(.es256, keyID: "a").publicJWK()!
        let unpinned = Self.with(try JWTKey.generate(.es256, keyID: "b").publicJWK()!, [("alg", nil)])
        #expect(throws: JWTError(.invalidKey)) { try JWKSet(Self.document([pinned, unpinned])) }
    }

    @Test("a JWKS must be an object with a keys array", arguments: [JSONValue.array([]), ["keys": "x"], ["kid": "a"]])
    func malformedSet(_ document: JSONValue) {
        #expect(throws: JWTError(.invalidKey)) { try JWKSet(document) }
    }
}
