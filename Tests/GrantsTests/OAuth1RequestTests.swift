import Foundation
import JWT
import Synchronization
import TestSupport
import Testing

@testable import Grants

@Suite("OAuth 1.0a: signature base string (RFC 5849) and RSA-SHA1")
struct OAuth1RequestTests {
    /// RFC 5849 §3.4.1.1's example request and base string (HMAC-SHA1 there; the base string is the same).
    @Test("the RFC 5849 §3.4.1.1 example")
    func rfcExample() throws {
        let header: Substring = """
            realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", \
            oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", \
            oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"
            """
        let request = try OAuth1Request(
            header: header, method: "post", baseURL: "http://EXAMPLE.com:80",
            rawPath: "/request", rawQuery: "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            formBody: "c2&a3=2+q")
        #expect(
            request.signatureBaseString == """
                POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7
                """)
        #expect(request.protocolParameters["oauth_signature"] == "bYT5CMsGcbgUdFHObYMEfcx6bsw=")
        #expect(request.protocolParameters["realm"] == nil)
    }

    @Test("non-default ports stay, default ones go, and query extensions count as protocol parameters")
    func urlAndExtensions() throws {
        let request = try OAuth1Request(
            header: #"oauth_consumer_key="k", oauth_token="""#, method: "GET",
            baseURL: "https://Site.example:8443/jira", rawPath: "/jira/rest/x",
            rawQuery: "xoauth_requestor_id=bob")
        #expect(request.normalizedURL == "https://site.example:8443/jira/rest/x")
        #expect(request.protocolParameters["xoauth_requestor_id"] == "bob")
        #expect(request.protocolParameters["oauth_token"] == "")
        #expect(OAuth1Request.normalizedURL(baseURL: "https://a.example:443", rawPath: "/p") == "https://a.example/p")
    }

    @Test(
        "a repeated oauth_ parameter or a malformed header is parameter_rejected",
        arguments: [
            #"oauth_nonce="a", oauth_nonce="b""#, #"oauth_nonce=a"#, #"oauth_nonce"#,
        ])
    func malformed(_ header: String) {
        #expect(throws: OAuth1Problem(.parameterRejected, "")) {
            try OAuth1Request(header: header[...], method: "GET", baseURL: "http://h", rawPath: "/", rawQuery: nil)
        }
    }

    @Test("RSA-SHA1 signatures verify with the public key and fail when anything changes")
    func rsaSHA1() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/keys")
        let privateKey = try RSASHA1Key(
            pem: String(contentsOf: folder.appendingPathComponent("applink-demo-only.private.pem"), encoding: .utf8))
        let publicKey = try RSASHA1Key(
            pem: String(contentsOf: folder.appendingPathComponent("applink.public.pem"), encoding: .utf8))
        let message = Array("GET&http%3A%2F%2Fh%2Fp&oauth_nonce%3D1".utf8)
        let signature = try privateKey.sign(message)
        #expect(publicKey.verify(signature: signature, message: message))
        #expect(!publicKey.verify(signature: signature, message: message + [0x20]))
        var tampered = signature
        tampered[0] ^= 1
        #expect(!publicKey.verify(signature: tampered, message: message))
        #expect(throws: JWTError.self) { try publicKey.sign(message) }
        // The key's prepared contexts are reused: a refusal leaves none of them spoilt, a
        // short or empty signature included, and threads share them.
        let outcomes = (0..<40).map { index -> Bool in
            switch index % 4 {
            case 0: publicKey.verify(signature: signature, message: message)
            case 1: publicKey.verify(signature: tampered, message: message)
            case 2: publicKey.verify(signature: Array(signature.prefix(10)), message: message)
            default: publicKey.verify(signature: [], message: message)
            }
        }
        #expect(outcomes == (0..<40).map { $0 % 4 == 0 })
        let verified = Mutex(0)
        let refused = tampered
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let good = publicKey.verify(signature: index.isMultiple(of: 2) ? signature : refused, message: message)
            if good == index.isMultiple(of: 2) { verified.withLock { $0 += 1 } }
        }
        #expect(verified.withLock { $0 } == 64)
    }

    @Test("the header, the query and percent escapes are read on bytes: a mark after a delimiter does not hide it")
    func bytesNotCharacters() throws {
        // U+0301 right after the closing quote, and after `&`: by Characters, `"` + U+0301 and `&` + U+0301
        // are single Characters that are neither `"` nor `&`.
        let pairs = try OAuth1Request.parseHeader("oauth_nonce=\"a\"\u{301}, oauth_version=\"1.0\"")
        #expect(pairs.count == 2)
        #expect(pairs.first?.0 == "oauth_nonce" && pairs.first?.1 == "a", "the value ends at the quote byte")
        #expect(pairs.last?.0 == "\u{301}, oauth_version", "the mark starts the next name, which is then unknown")
        let query = OAuth1Request.formParameters("a=1&\u{301}b=2")
        #expect(query.count == 2)
        #expect(query[1].0 == "\u{301}b")
        // Two hex digits or nothing: `%+f` is not 0x0F.
        #expect(OAuth1Request.percentDecoded("%+f%41%4") == "%+fA%4")
        #expect(OAuth1Request.formParameters("x=%2B+%2b").first?.1 == "+ +")
    }

    @Test("the byte parser reads every request as the string-based parser before it did (20,000 generated requests)")
    func sameAsReference() {
        var random = SeededGenerator(seed: 0x5EED_0A17)
        var compared = 0
        for _ in 0..<20_000 {
            let input = GeneratedOAuth1Input(&random)
            let reference = Result { () throws(OAuth1Problem) in
                try ReferenceOAuth1Request(
                    header: input.header[...], method: input.method, baseURL: input.baseURL,
                    rawPath: input.path[...], rawQuery: input.query.map { $0[...] }, formBody: input.body)
            }
            let parsed = Result { () throws(OAuth1Problem) in
                try OAuth1Request(
                    header: input.header[...], method: input.method, baseURL: input.baseURL,
                    rawPath: input.path[...], rawQuery: input.query.map { $0[...] }, formBody: input.body)
            }
            switch (reference, parsed) {
            case (.success(let reference), .success(let parsed)):
                let parameters = Dictionary(parsed.protocolParameters.all.map { ($0.name, $0.value) }) { first, _ in
                    first
                }
                #expect(parameters == reference.protocolParameters, "\(input)")
                #expect(parsed.protocolParameters.all.count == reference.protocolParameters.count, "\(input)")
                #expect(parsed.signatureBase == reference.signatureBase, "\(input)")
                #expect(parsed.normalizedURL == reference.normalizedURL, "\(input)")
                #expect(parsed.flow == reference.flow, "\(input)")
                #expect(parsed.method == reference.method, "\(input)")
                #expect(parsed.callback == reference.callback && parsed.verifier == reference.verifier)
                #expect(parsed.sessionHandle == reference.sessionHandle)
                compared += 1
            case (.failure(let reference), .failure(let parsed)):
                #expect(
                    parsed == reference && parsed.message == reference.message,
                    "\(input): \(parsed.message) against \(reference.message)")
            default:
                Issue.record("the parsers disagree on \(input): \(reference) against \(parsed)")
            }
        }
        // Most generated requests parse, so the comparison is mostly of what they make.
        #expect(compared > 10_000)
    }
}

/// A request made of the pieces that trip parsers: delimiters, escapes (valid, short and
/// lone), `+`, quotes, combining marks, repeated and protocol names, default ports.
struct GeneratedOAuth1Input: CustomStringConvertible {
    let header: String
    let method: String
    let baseURL: String
    let path: String
    let query: String?
    let body: String?

    static let names = [
        "oauth_nonce", "oauth_token", "realm", "oauth_signature", "oauth_callback", "oauth_verifier",
        "oauth_session_handle", "xoauth_requestor_id", "user_id", "a", "b%20c", "a+b", "",
    ]
    static let pieces = [
        "a", "Z", "0", "~", "-", "%", "%4", "%41", "%2b", "%2B", "%zz", "+", "=", "&", ",", " ", "\t", "\"", "é",
        "\u{301}", "/", "?", "€", "%E2%82%AC", "%C3",
    ]

    init(_ random: inout SeededGenerator) {
        func text(_ random: inout SeededGenerator, _ most: Int) -> String {
            (0..<Int(random.next() % UInt64(most + 1))).map { _ in Self.pieces.randomElement(using: &random)! }
                .joined()
        }
        func name(_ random: inout SeededGenerator) -> String {
            random.next() % 5 == 0 ? text(&random, 3) : Self.names.randomElement(using: &random)!
        }
        var header = ""
        for index in 0..<Int(random.next() % 6) {
            if index > 0 { header += [", ", ",", " ", ",\t"].randomElement(using: &random)! }
            switch random.next() % 12 {
            case 0: header += name(&random) + "=" + text(&random, 4)
            case 1: header += name(&random) + " =\"" + text(&random, 4) + "\""
            case 2: header += text(&random, 6)
            default: header += name(&random) + "=\"" + text(&random, 6).replacingOccurrences(of: "\"", with: "") + "\""
            }
        }
        func form(_ random: inout SeededGenerator) -> String? {
            guard random.next() % 3 != 0 else { return nil }
            return (0..<Int(random.next() % 4)).map { _ in
                random.next() % 4 == 0 ? text(&random, 5) : name(&random) + "=" + text(&random, 4)
            }.joined(separator: "&")
        }
        self.header = header
        self.method = ["GET", "post", "Put", "DELETE", "gEt"].randomElement(using: &random)!
        self.baseURL = [
            "http://EXAMPLE.com:80", "https://Site.example:443/jira", "https://a.example:8443", "HTTP://h:80/x",
            "http://h", "no-scheme", "http:/h", "https://É.example:443",
        ].randomElement(using: &random)!
        self.path = "/" + text(&random, 4)
        self.query = form(&random)
        self.body = form(&random)
    }

    var description: String {
        "header \(header.debugDescription), method \(method), base \(baseURL.debugDescription), path "
            + "\(path.debugDescription), query \(String(describing: query?.debugDescription)), body "
            + "\(String(describing: body?.debugDescription))"
    }
}
