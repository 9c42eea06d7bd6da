import Benchmark
import COpenSSL
import JWT

// Connect JWT verification against raw OpenSSL HMAC-SHA256 over the same
// signing input, plus the asymmetric verifications behind access tokens (ES256 by
// default; RS256 or EdDSA when `accessTokens.algorithm` says so).
// `make bench` runs this on one core and prints the ratios (scripts/bench-report.py).
// Every benchmark runs 1,000 operations per sample (scalingFactor .kilo), which
// the report relies on to turn samples per second into operations per second.

let connectRequest = (
    method: "GET", path: "/rest/api/3/search", query: "jql=project%20%3D%20PROJ&maxResults=50&startAt=0"
)
let appSecret = Array("benchmark-shared-secret-0123456789abcdef".utf8)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let key = try! JWTKey.secret(appSecret)
    let signer = ConnectJWTSigner(issuer: "com.example.bench", key: key)
    let token = try! signer.token(
        method: connectRequest.method, rawPath: connectRequest.path,
        rawQuery: connectRequest.query, lifetime: 3600)
    let verifier = ConnectJWTVerifier(lookup: { $0 == "com.example.bench" ? key : nil })
    let signingInput = Array(token.split(separator: ".").prefix(2).joined(separator: ".").utf8)

    Benchmark("Connect JWT verify (parse, HS256, claims, qsh of 3 parameters)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try verifier.verify(
                    token, method: connectRequest.method, rawPath: connectRequest.path,
                    rawQuery: connectRequest.query))
        }
    }

    Benchmark("Raw OpenSSL HMAC-SHA256, HMAC() one-shot") { benchmark in
        var mac = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        for _ in benchmark.scaledIterations {
            _ = HMAC(EVP_sha256(), appSecret, Int32(appSecret.count), signingInput, signingInput.count, &mac, &length)
            blackHole(mac)
        }
    }

    Benchmark("Raw OpenSSL HMAC-SHA256, keyed context duplicated per call") { benchmark in
        let template = RawKeyedHMAC(key: appSecret)
        for _ in benchmark.scaledIterations {
            blackHole(template.mac(signingInput))
        }
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

    func mac(_ input: [UInt8]) -> [UInt8] {
        let context = EVP_MAC_CTX_dup(template)
        defer { EVP_MAC_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 32)
        var length = 0
        EVP_MAC_update(context, input, input.count)
        EVP_MAC_final(context, &output, &length, output.count)
        return output
    }
}
