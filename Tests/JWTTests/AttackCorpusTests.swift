import JWT
import Testing

/// One recipe of Fixtures/attack-corpus.json.
struct AttackCase: Sendable, CustomTestStringConvertible {
    let name: String
    let recipe: JSONValue
    var testDescription: String { name }

    static let corpus = Fixture.json("attack-corpus.json")
    static let now = corpus["now"]!.int64Value!

    static func load() -> [AttackCase] {
        corpus["cases"]!.arrayValue!.map { AttackCase(name: $0["name"]!.stringValue!, recipe: $0) }
    }

    var expected: String { recipe["expect"]!.stringValue! }
}

/// Builds the tokens the corpus describes and the verifiers they meet.
enum AttackBench {
    static let appKey = "com.example.app"
    static let appSecret = Array("connect-shared-secret-for-tests-0123456789".utf8)
    static let otherSecret = Array("a-different-secret-nobody-registered-here".utf8)
    static let rsaPrivatePEM = Fixture.text("keys/rsa-private.pem")
    static let rsaPublicPEM = Fixture.text("keys/rsa-public.pem")
    static let defaultRequest = (method: "GET", path: "/rest/api/2/issue", query: "b=2&a=1&c=3")

    static func request(_ recipe: JSONValue) -> (method: String, path: String, query: String) {
        let overrides = recipe["request"]
        return (
            overrides?["method"]?.stringValue ?? defaultRequest.method,
            overrides?["path"]?.stringValue ?? defaultRequest.path,
            overrides?["query"]?.stringValue ?? defaultRequest.query
        )
    }

    static func qsh(_ recipe: JSONValue) throws -> String {
        var qsh: String
        if let literal = recipe["qsh"]?.stringValue {
            qsh = literal
        } else if let canonical = recipe["qshOf"]?.stringValue {
            qsh = Hex.lowercase(Digest.sha256.hash(Array(canonical.utf8)))
        } else {
            let (method, path, query) = request(recipe)
            qsh = try CanonicalRequest(method: method, rawPath: path, rawQuery: query).queryStringHash
        }
        if recipe["qshTransform"]?.stringValue == "uppercase" { qsh = qsh.uppercased() }
        return qsh
    }

    static func claims(_ recipe: JSONValue) throws -> [UInt8] {
        if let raw = recipe["payloadRaw"]?.stringValue {
            return Array(raw.replacing("$qsh", with: try qsh(recipe)).utf8)
        }
        var claims: JSONObject = JSONObject([
            ("iss", .string(appKey)), ("iat", .integer(AttackCase.now - 10)),
            ("exp", .integer(AttackCase.now + 170)), ("qsh", .string(try qsh(recipe))),
        ])
        for (name, value) in recipe["claims"]?.objectValue ?? JSONObject() {
            claims[name] = value.isNull ? nil : value
        }
        if let size = recipe["bigClaim"]?.int64Value {
            claims["pad"] = .string(String(repeating: "x", count: Int(size)))
        }
        return JSONValue.object(claims).serializedBytes()
    }

    static func header(_ recipe: JSONValue) -> [UInt8] {
        if let raw = recipe["headerRaw"]?.stringValue { return Array(raw.utf8) }
        return (recipe["header"] ?? ["alg": "HS256", "typ": "JWT"]).serializedBytes()
    }

    static func signature(_ recipe: JSONValue, input: String) throws -> String {
        let bytes = Array(input.utf8)
        switch recipe["signWith"]?.stringValue ?? "app" {
        case "app": return Base64URL.encode(HMAC.sign(bytes, key: appSecret, digest: .sha256))
        case "app-hs512": return Base64URL.encode(HMAC.sign(bytes, key: appSecret, digest: .sha512))
        case "other-secret": return Base64URL.encode(HMAC.sign(bytes, key: otherSecret, digest: .sha256))
        case "rsa-public-pem-as-secret":
            return Base64URL.encode(HMAC.sign(bytes, key: Array(rsaPublicPEM.utf8), digest: .sha256))
        case "rsa": return Base64URL.encode(try JWTKey.pem(rsaPrivatePEM, algorithm: .rs256).sign(bytes))
        default: return ""
        }
    }

    static func token(_ recipe: JSONValue) throws -> String {
        if let literal = recipe["token"]?.stringValue { return literal }
        let input = Base64URL.encode(header(recipe)) + "." + Base64URL.encode(try claims(recipe))
        let token = input + "." + (try signature(recipe, input: input))
        return mutate(token, recipe["mutation"]?.stringValue)
    }

    static func mutate(_ token: String, _ mutation: String?) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch mutation {
        case "padSignature": parts[2] += "="
        case "padHeader": parts[0] += "=="
        case "plusInPayload": parts[1] = "+" + parts[1].dropFirst()
        case "slashInSignature": parts[2] = "/" + parts[2].dropFirst()
        case "trailingBits": parts[2] = String(parts[2].dropLast()) + nextCharacter(parts[2].last!)
        case "trailingSpace": parts[2] += " "
        case "nonASCII": parts[1] = "é" + parts[1].dropFirst()
        case "fourSegments": parts.append("AAAA")
        case "twoSegments": parts.removeLast()
        case "truncateSignature3": parts[2] = String(parts[2].dropLast(3))
        case "truncateSignature2": parts[2] = String(parts[2].dropLast(2))
        case "flipSignatureBit": parts[2] = nextCharacter(parts[2].first!) + parts[2].dropFirst()
        case "alterPayload": parts[1] = Base64URL.encode(Array(#"{"iss":"com.example.app","x":1}"#.utf8))
        case "hugeSignature": parts[2] = String(repeating: "A", count: 2000)
        default: break
        }
        return parts.joined(separator: ".")
    }

    /// The base64url character after `character`: changes the lowest bit of its value.
    static func nextCharacter(_ character: Character) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let index = alphabet.firstIndex(of: character)!
        return String(alphabet[index ^ 1])
    }

    static func verify(_ token: String, _ recipe: JSONValue) throws(JWTError) {
        let appKeyValue = try JWTKey.secret(appSecret)
        let rsa = try JWTKey.pem(rsaPublicPEM, algorithm: .rs256, keyID: "rsa-1")
        switch recipe["verifier"]?.stringValue ?? "connect" {
        case "rs256-only":
            _ = try JWTVerifier(key: rsa).verify(token, now: AttackCase.now)
        case "multi":
            let hmac = try JWTKey.secret(appSecret, keyID: "hmac-1")
            _ = try JWTVerifier(keys: [rsa, hmac]).verify(token, now: AttackCase.now)
        default:
            let verifier = ConnectJWTVerifier(lookup: { $0 == appKey ? appKeyValue : nil })
            let (method, path, query) = request(recipe)
            _ = try verifier.verify(
                token, method: method, rawPath: path, rawQuery: query,
                allowContextQSH: recipe["allowContext"]?.boolValue ?? false, now: AttackCase.now)
        }
    }
}

/// HMAC (RFC 2104) written out plainly, so the corpus can forge tokens with any
/// key bytes, including the PEM text the key API rightly refuses as a secret.
enum HMAC {
    static func sign(_ message: [UInt8], key: [UInt8], digest: Digest) -> [UInt8] {
        let blockSize = digest.size > 32 ? 128 : 64
        var block = key.count > blockSize ? digest.hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = digest.hash(block.map { $0 ^ 0x36 } + message)
        return digest.hash(block.map { $0 ^ 0x5C } + inner)
    }
}

@Suite("Attack corpus")
struct AttackCorpusTests {
    @Test("the corpus holds at least 40 attacks and some positive controls")
    func size() {
        let cases = AttackCase.load()
        #expect(cases.filter { $0.expected != "ok" }.count >= 40)
        #expect(cases.contains { $0.expected == "ok" })
    }

    @Test("each case is refused with its own error, or verifies when it should", arguments: AttackCase.load())
    func attack(_ attack: AttackCase) throws {
        let token = try AttackBench.token(attack.recipe)
        if attack.expected == "ok" {
            #expect(throws: Never.self) { try AttackBench.verify(token, attack.recipe) }
            return
        }
        let expected = try #require(JWTError.Code(rawValue: attack.expected), "unknown code \(attack.expected)")
        do {
            try AttackBench.verify(token, attack.recipe)
            Issue.record("accepted: \(attack.name)")
        } catch {
            #expect(error.code == expected, "\(error)")
            #expect(!error.reason.contains(token) || token.count < 8, "a message must never echo the whole token")
        }
    }

    @Test("the plain HMAC above agrees with the key API (RFC 4231 case 2)")
    func hmacAgrees() throws {
        let mac = HMAC.sign(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8), digest: .sha256)
        #expect(Hex.lowercase(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
