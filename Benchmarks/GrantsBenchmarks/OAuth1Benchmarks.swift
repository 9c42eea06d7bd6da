import Benchmark
import Foundation
import Grants
import JWT
import Policy

// What the gateway does with an OAuth 1.0a signed request before its nonce is spent
// (docs/links.md): the Authorization header parsed, the signature base string made,
// the RSA-SHA1 signature verified and the nonce key made (`OAuth1Verifier.check`).
// Beside it, in the same run: the parse and base string alone, and the RSA-SHA1
// verification alone (`RSASHA1Key.verify`, one `EVP_DigestVerify` on a prepared
// context), so that scripts/bench-report.py can say what the protocol work costs over
// the cryptography. Each request is distinct (its own nonce and signature), as a
// wrk run of `make bench-proxy` sends them.

/// Signed requests as `bench/oauth1-requests.py` makes them: a 2-legged GET, the five
/// `oauth_*` parameters and the signature in the header, no query.
final class OAuth1Fixture: Sendable {
    static let consumerKey = "bench-link"
    static let baseURL = "http://127.0.0.1:54385"
    static let path: Substring = "/rest/api/3/project/PROJ"
    static let count = 1_000

    let headers: [Substring]
    let bases: [[UInt8]]
    let signatures: [[UInt8]]
    let policy: OAuth1Consumers

    init() {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/keys")
        let read = { (name: String) in try! String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }
        let signer = try! RSASHA1Key(pem: read("applink-demo-only.private.pem"))
        let verifier = try! RSASHA1Key(pem: read("applink.public.pem"))
        let timestamp = String(UnixTime.now())
        var (headers, bases, signatures): ([Substring], [[UInt8]], [[UInt8]]) = ([], [], [])
        for index in 0..<Self.count {
            let unsigned = """
                oauth_consumer_key="\(Self.consumerKey)", oauth_nonce="bench\(index)x7q2m", \
                oauth_signature_method="RSA-SHA1", oauth_timestamp="\(timestamp)", oauth_version="1.0"
                """
            let request = try! OAuth1Request(
                header: unsigned[...], method: "GET", baseURL: Self.baseURL, rawPath: Self.path, rawQuery: nil)
            let signature = try! signer.sign(request.signatureBase)
            let encoded = OAuth1Request.encode(Data(signature).base64EncodedString())
            headers.append(#"\#(unsigned), oauth_signature="\#(encoded)""#[...])
            bases.append(request.signatureBase)
            signatures.append(signature)
        }
        (self.headers, self.bases, self.signatures) = (headers, bases, signatures)
        self.policy = OAuth1Consumers(
            consumer: OAuth1ConsumerKey(appKey: "com.example.bench-link", consumerKey: Self.consumerKey, key: verifier))
    }
}

/// A policy with one application link: the benchmarks measure the checks, not the policy.
struct OAuth1Consumers: GrantPolicy {
    let consumer: OAuth1ConsumerKey
    func assertionClient(clientID: String) -> AssertionClient? { nil }
    func appScopes(appKey: String) -> AppScopes { AppScopes(names: [], covers: { _ in false }) }
    func userStatus(accountId: String) -> UserStatus { .unknown }
    func appKey(ofAppUser accountId: String) -> String? { nil }
    func oauth1Consumer(consumerKey: String) -> OAuth1ConsumerKey? {
        consumerKey == consumer.consumerKey ? consumer : nil
    }
}

func oauth1Benchmarks() {
    let fixture = OAuth1Fixture()
    Benchmark("OAuth 1.0a parse and base string (2LO header, no RSA)") { benchmark in
        var next = 0
        for _ in benchmark.scaledIterations {
            let request = try OAuth1Request(
                header: fixture.headers[next], method: "GET", baseURL: OAuth1Fixture.baseURL,
                rawPath: OAuth1Fixture.path, rawQuery: nil)
            blackHole(request.signatureBase)
            next = (next + 1) % fixture.headers.count
        }
    }

    Benchmark("OAuth 1.0a check (parse, base string, RSA-SHA1, nonce key)") { benchmark async throws in
        // The checks never touch the store; the verifier needs one for the nonces it does not spend here.
        let store = try await Store.open(.sqlite(path: ":memory:"), logger: quietLogger)
        let verifier = OAuth1Verifier(store: store)
        var next = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let request = try OAuth1Request(
                header: fixture.headers[next], method: "GET", baseURL: OAuth1Fixture.baseURL,
                rawPath: OAuth1Fixture.path, rawQuery: nil)
            blackHole(try verifier.check(request, policy: fixture.policy))
            next = (next + 1) % fixture.headers.count
        }
        benchmark.stopMeasurement()
        await store.close()
    }

    Benchmark("RSA-SHA1 verify alone (RSASHA1Key, one EVP_DigestVerify)") { benchmark in
        let key = fixture.policy.consumer.key
        var next = 0
        for _ in benchmark.scaledIterations {
            blackHole(key.verify(signature: fixture.signatures[next], message: fixture.bases[next]))
            next = (next + 1) % fixture.bases.count
        }
    }
}
