import Benchmark
import COpenSSL
import JWT

// Connect JWT verification of distinct tokens against raw OpenSSL HMAC-SHA256
// over the same signing inputs, plus the asymmetric verifications and signatures behind
// access tokens (ES256 by default; RS256 or EdDSA when `accessTokens.algorithm` says so),
// ES256 beside raw OpenSSL initialising a digest context per signature.
// `make bench` runs this on one core and prints the ratios (scripts/bench-report.py).
// Every benchmark runs 1,000 operations per sample (scalingFactor .kilo), which
// the report relies on to turn samples per second into operations per second.

let connectRequest = (
    method: "GET", path: "/rest/api/3/search", query: "jql=project%20%3D%20PROJ&maxResults=50&startAt=0"
)
let appSecret = Array("benchmark-shared-secret-0123456789abcdef".utf8)
/// Distinct tokens made before the timed part and cycled through, so every
/// verification is of a token the verifier has not just seen (no cache of
/// verified tokens can stand in for the work); 65,536 of them (about 20 MB) are
/// more than one sample's 1,000 verifications and stay apart in the CPU caches.
let distinctTokens = 65_536

/// `count` Connect JWTs for `connectRequest`, differing in `jti` and `iat`, each
/// valid for the next 50 minutes at least.
func connectTokens(count: Int, key: JWTKey) -> [String] {
    let qsh = try! CanonicalRequest(
        method: connectRequest.method, rawPath: connectRequest.path, rawQuery: connectRequest.query
    ).queryStringHash
    let now = UnixTime.now()
    let signer = JWTSigner(key: key)
    return (0..<count).map { index in
        let issuedAt = now - Int64(index % 600)
        var claims = JSONObject()
        claims["iss"] = .string("com.example.bench")
        claims["iat"] = .integer(issuedAt)
        claims["exp"] = .integer(issuedAt + 3600)
        claims["jti"] = .string("bench-\(index)")
        claims["qsh"] = .string(qsh)
        return try! signer.sign(claims)
    }
}

/// The tokens, their signing inputs and the verifier, made once per process on
/// first use (a lazy global), so only the benchmarks that need them pay for them.
struct ConnectFixture: Sendable {
    let tokens: [String]
    /// `BASE64URL(header) "." BASE64URL(payload)` of each token: what the references MAC.
    let signingInputs: [[UInt8]]
    let verifier: ConnectJWTVerifier

    init() {
        let key = try! JWTKey.secret(appSecret)
        tokens = connectTokens(count: distinctTokens, key: key)
        signingInputs = tokens.map { Array($0.split(separator: ".").prefix(2).joined(separator: ".").utf8) }
        verifier = ConnectJWTVerifier(lookup: { $0 == "com.example.bench" ? key : nil })
    }
}

let connect = ConnectFixture()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    Benchmark("Connect JWT verify (parse, HS256, claims, qsh of 3 parameters)") { benchmark in
        let (tokens, verifier) = (connect.tokens, connect.verifier)
        var next = 0
        for _ in benchmark.scaledIterations {
            blackHole(
                try verifier.verify(
                    tokens[next], method: connectRequest.method, rawPath: connectRequest.path,
                    rawQuery: connectRequest.query))
            next = next &+ 1 == tokens.count ? 0 : next &+ 1
        }
    } setup: {
        blackHole(connect.tokens.count)
    }

    Benchmark("Raw OpenSSL HMAC-SHA256, HMAC() one-shot") { benchmark in
        let signingInputs = connect.signingInputs
        var mac = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        var next = 0
        for _ in benchmark.scaledIterations {
            let input = signingInputs[next]
            _ = HMAC(EVP_sha256(), appSecret, Int32(appSecret.count), input, input.count, &mac, &length)
            blackHole(mac)
            next = next &+ 1 == signingInputs.count ? 0 : next &+ 1
        }
    } setup: {
        blackHole(connect.signingInputs.count)
    }

    Benchmark("Raw OpenSSL HMAC-SHA256, keyed context duplicated per call") { benchmark in
        let signingInputs = connect.signingInputs
        let template = RawKeyedHMAC(key: appSecret)
        var mac = [UInt8](repeating: 0, count: 32)
        var next = 0
        for _ in benchmark.scaledIterations {
            template.mac(signingInputs[next], into: &mac)
            blackHole(mac)
            next = next &+ 1 == signingInputs.count ? 0 : next &+ 1
        }
    } setup: {
        blackHole(connect.signingInputs.count)
    }

    for algorithm in [JWSAlgorithm.es256, .rs256, .edDSA] {
        let asymmetric = try! JWTKey.generate(algorithm, keyID: "lg-0123456789abcdef")
        let input = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9".utf8)
        let signature = try! asymmetric.sign(input)
        Benchmark("\(algorithm.rawValue) verify") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(asymmetric.verify(signature: signature, signingInput: input))
            }
        }
        // The access-token path: one signature over a prepared context per token.
        let tokenInput = accessTokenSigningInput(key: asymmetric)
        Benchmark("\(algorithm.rawValue) sign, access-token signing input (\(tokenInput.count) bytes)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try asymmetric.sign(tokenInput))
            }
        }
    }

    Benchmark("ES256 access token, claims to compact JWS (at+jwt header prepared)") { benchmark in
        let signer = JWTSigner(key: accessTokenKey, type: "at+jwt")
        var next = 0
        for _ in benchmark.scaledIterations {
            blackHole(try signer.sign(accessTokenClaims(tokenID: next), type: "at+jwt"))
            next &+= 1
        }
    }

    Benchmark("Raw OpenSSL ES256 sign, EVP_DigestSignInit per call (DER out)") { benchmark in
        let reference = RawDigestSigner(pem: accessTokenKey.privateKeyPEM()!)
        let input = accessTokenSigningInput(key: accessTokenKey)
        for _ in benchmark.scaledIterations {
            blackHole(reference.sign(input))
        }
    }
}

/// The key the access-token rows sign with, as `accessTokens` makes by default.
let accessTokenKey = try! JWTKey.generate(.es256, keyID: "lg-0123456789abcdef")

/// Claims of the size the gateway issues (RFC 9068, AccessToken): about 330 bytes of JSON.
func accessTokenClaims(tokenID: Int) -> JSONObject {
    let now = UnixTime.now()
    return JSONObject([
        ("jti", .string("bench-\(tokenID)-6f1c2a9e0b7d4e53a8c1f2e3d4b5a697")),
        ("iss", "https://jira.example.com"), ("aud", "https://jira.example.com"),
        ("sub", "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"), ("client_id", "Kx3jH8sWq2LmN9pRt5vYz7bC1dF4gJ6k"),
        ("app", "com.example.reports"), ("grant", "jwt-bearer"),
        ("scope", "READ WRITE ACT_AS_USER read:jira-work write:jira-work"),
        ("iat", .integer(now)), ("exp", .integer(now + 3600)),
    ])
}

/// `BASE64URL(header) "." BASE64URL(claims)` of an access token signed by `key`.
func accessTokenSigningInput(key: JWTKey) -> [UInt8] {
    let token = try! JWTSigner(key: key, type: "at+jwt").sign(accessTokenClaims(tokenID: 0), type: "at+jwt")
    return Array(token[..<token.lastIndex(of: ".")!].utf8)
}

/// Plain OpenSSL signing as a caller without prepared contexts would write it: a
/// digest context initialised with the key for every signature.
final class RawDigestSigner: @unchecked Sendable {
    private let pkey: OpaquePointer

    init(pem: String) {
        let bytes = Array(pem.utf8)
        let bio = BIO_new_mem_buf(bytes, Int32(bytes.count))!
        defer { BIO_free(bio) }
        pkey = PEM_read_bio_PrivateKey(bio, nil, nil, nil)!
    }

    deinit { EVP_PKEY_free(pkey) }

    /// The DER signature of `input` (no JWS conversion: the reference is OpenSSL alone).
    func sign(_ input: [UInt8]) -> Int {
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 80)
        var length = signature.count
        EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pkey)
        EVP_DigestSign(context, &signature, &length, input, input.count)
        return length
    }
}

/// The fastest plain use of OpenSSL's HMAC: a context keyed once, duplicated per message.
final class RawKeyedHMAC: @unchecked Sendable {
    private let template: OpaquePointer

    init(key: [UInt8]) {
        let mac = EVP_MAC_fetch(nil, "HMAC", nil)!
        template = EVP_MAC_CTX_new(mac)!
        EVP_MAC_free(mac)
        var digest = Array("SHA256".utf8CString)
        digest.withUnsafeMutableBufferPointer { name in
            var params = [
                OSSL_PARAM_construct_utf8_string("digest", name.baseAddress, 0),
                OSSL_PARAM_construct_end(),
            ]
            _ = EVP_MAC_init(template, key, key.count, &params)
        }
    }

    deinit { EVP_MAC_CTX_free(template) }

    /// The MAC of `input` into `output` (32 bytes): no allocation of ours per call.
    func mac(_ input: [UInt8], into output: inout [UInt8]) {
        let context = EVP_MAC_CTX_dup(template)
        defer { EVP_MAC_CTX_free(context) }
        var length = 0
        EVP_MAC_update(context, input, input.count)
        EVP_MAC_final(context, &output, &length, output.count)
    }
}
