import Benchmark
import COpenSSL
import JWT

// Connect JWT verification of distinct tokens against raw OpenSSL HMAC-SHA256
// over the same signing inputs, plus the asymmetric verifications behind access tokens (ES256 by
// default; RS256 or EdDSA when `accessTokens.algorithm` says so).
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
        let asymmetric = try! JWTKey.generate(algorithm)
        let input = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9".utf8)
        let signature = try! asymmetric.sign(input)
        Benchmark("\(algorithm.rawValue) verify") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(asymmetric.verify(signature: signature, signingInput: input))
            }
        }
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
