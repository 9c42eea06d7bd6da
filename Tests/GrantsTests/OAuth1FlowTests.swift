import Foundation
import JWT
import Policy
import Testing

@testable import Grants

/// The typed flow of a signed request (docs/protocols.md §6): 2-legged, with the
/// requestor it names, or 3-legged, with its token.
@Suite("OAuth 1.0a: 2-legged and 3-legged requests, parsed once")
struct OAuth1FlowTests {
    static let baseURL = "https://site.example"

    static func parse(
        _ header: String, query: Substring? = nil, body: String? = nil
    ) throws(OAuth1Problem) -> OAuth1Request {
        try OAuth1Request(
            header: header[...], method: "POST", baseURL: baseURL, rawPath: "/rest/api/2/myself",
            rawQuery: query, formBody: body)
    }

    @Test("no oauth_token, or an empty one, is 2-legged without a requestor")
    func twoLegged() throws {
        #expect(try Self.parse(#"oauth_consumer_key="k""#).flow == .twoLegged(requestor: nil))
        #expect(try Self.parse(#"oauth_consumer_key="k", oauth_token="""#).flow == .twoLegged(requestor: nil))
        #expect(try Self.parse(#"oauth_consumer_key="k""#, query: "oauth_token=").flow == .twoLegged(requestor: nil))
        #expect(try Self.parse(#"oauth_consumer_key="k""#, body: "oauth_token=&a=1").flow == .twoLegged(requestor: nil))
    }

    @Test("xoauth_requestor_id names the requestor, in the header, the query or the form body")
    func requestorID() throws {
        let named = OAuth1Flow.twoLegged(requestor: "bob@example.com")
        #expect(try Self.parse(#"oauth_consumer_key="k", xoauth_requestor_id="bob%40example.com""#).flow == named)
        #expect(
            try Self.parse(#"oauth_consumer_key="k", oauth_token="""#, query: "xoauth_requestor_id=bob%40example.com")
                .flow
                == named)
        #expect(try Self.parse(#"oauth_consumer_key="k""#, body: "xoauth_requestor_id=bob%40example.com").flow == named)
    }

    @Test("user_id names the requestor too, in the header, the query or the form body")
    func userID() throws {
        let named = OAuth1Flow.twoLegged(requestor: "5b10ac8d82e05b22cc7d4ef5")
        #expect(try Self.parse(#"oauth_consumer_key="k", user_id="5b10ac8d82e05b22cc7d4ef5""#).flow == named)
        #expect(
            try Self.parse(#"oauth_consumer_key="k", oauth_token="""#, query: "user_id=5b10ac8d82e05b22cc7d4ef5").flow
                == named)
        #expect(try Self.parse(#"oauth_consumer_key="k""#, body: "a=1&user_id=5b10ac8d82e05b22cc7d4ef5").flow == named)
    }

    @Test("a user named twice (both names, or one twice) is refused; an empty one is still named")
    func ambiguousRequestor() throws {
        let twice = OAuth1Problem(.parameterRejected, "")
        #expect(throws: twice) {
            try Self.parse(#"oauth_consumer_key="k", xoauth_requestor_id="alice""#, query: "user_id=bob")
        }
        #expect(throws: twice) {
            try Self.parse(#"oauth_consumer_key="k""#, query: "user_id=bob", body: "xoauth_requestor_id=carol")
        }
        #expect(throws: twice) { try Self.parse(#"oauth_consumer_key="k""#, query: "user_id=bob&user_id=bob") }
        #expect(
            try Self.parse(#"oauth_consumer_key="k""#, query: "xoauth_requestor_id=").flow == .twoLegged(requestor: ""))
    }

    @Test("a non-empty oauth_token is 3-legged, whatever requestor is named")
    func threeLegged() throws {
        #expect(try Self.parse(#"oauth_consumer_key="k", oauth_token="tok%2F1""#).flow == .threeLegged(token: "tok/1"))
        #expect(
            try Self.parse(#"oauth_consumer_key="k", oauth_token="tok", xoauth_requestor_id="bob""#).flow
                == .threeLegged(token: "tok"))
        #expect(
            try Self.parse(#"oauth_consumer_key="k""#, query: "oauth_token=tok&user_id=bob").flow
                == .threeLegged(token: "tok"))
    }

    @Test("oauth_callback, oauth_verifier and oauth_session_handle are read wherever they are signed")
    func extensionParameters() throws {
        let request = try Self.parse(
            #"oauth_consumer_key="k", oauth_callback="https%3A%2F%2Fapp.example%2Fcb""#,
            query: "oauth_session_handle=h1", body: "oauth_verifier=v%2B1")
        #expect(request.callback == "https://app.example/cb")
        #expect(request.sessionHandle == "h1")
        #expect(request.verifier == "v+1")
        let bare = try Self.parse(#"oauth_consumer_key="k""#)
        #expect(bare.callback == nil && bare.verifier == nil && bare.sessionHandle == nil)
    }

    @Test("the typed flow leaves the signature base string as RFC 5849 §3.4.1 makes it")
    func baseStringUnchanged() throws {
        let request = try Self.parse(
            #"oauth_consumer_key="k", oauth_token="tok", oauth_signature="c2ln""#,
            query: "xoauth_requestor_id=bob", body: "user_id=carol")
        #expect(
            request.signatureBaseString == """
                POST&https%3A%2F%2Fsite.example%2Frest%2Fapi%2F2%2Fmyself&oauth_consumer_key%3Dk%26oauth_token%3Dtok%26user_id%3Dcarol%26xoauth_requestor_id%3Dbob
                """)
    }
}

/// `OAuth1Verifier` on requests signed with the demo application link's key.
@Suite("OAuth 1.0a: verified requests carry their flow")
struct OAuth1VerifiedFlowTests {
    static let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/keys")

    let privateKey: RSASHA1Key
    let consumer: OAuth1ConsumerKey
    let now = UnixTime.now()

    init() throws {
        privateKey = try RSASHA1Key(
            pem: String(
                contentsOf: Self.keys.appendingPathComponent("applink-demo-only.private.pem"),
                encoding: .utf8))
        let publicKey = try RSASHA1Key(
            pem: String(
                contentsOf: Self.keys.appendingPathComponent("applink.public.pem"),
                encoding: .utf8))
        consumer = OAuth1ConsumerKey(appKey: "com.example.link", consumerKey: "link-consumer", key: publicKey)
    }

    /// A request signed as a consumer signs it: the protocol parameters and `extra` in the header.
    func signed(_ extra: [(String, String)], query: Substring? = nil) throws -> OAuth1Request {
        var parameters =
            [
                ("oauth_consumer_key", consumer.consumerKey), ("oauth_signature_method", "RSA-SHA1"),
                ("oauth_timestamp", String(now)), ("oauth_nonce", SecureRandom.identifier()),
                ("oauth_version", "1.0"),
            ] + extra
        func request() throws(OAuth1Problem) -> OAuth1Request {
            let header = parameters.map { "\($0.0)=\"\(OAuth1Request.encode($0.1))\"" }.joined(separator: ", ")
            return try OAuth1Request(
                header: header[...], method: "GET", baseURL: OAuth1FlowTests.baseURL,
                rawPath: "/rest/api/2/myself", rawQuery: query)
        }
        let signature = try privateKey.sign(Array(try request().signatureBaseString.utf8))
        parameters.append(("oauth_signature", Data(signature).base64EncodedString()))
        return try request()
    }

    /// The verifier with a policy that knows one application link.
    struct Checker {
        let verifier: OAuth1Verifier
        let policy: FakeGrantPolicy

        func verify(_ request: OAuth1Request, now: Int64) async throws -> VerifiedOAuth1Request {
            try await verifier.verify(request, policy: policy, now: now)
        }
    }

    func verifier(_ store: Store) -> Checker {
        Checker(
            verifier: OAuth1Verifier(store: store), policy: FakeGrantPolicy(consumers: [consumer.consumerKey: consumer])
        )
    }

    @Test("2-legged, 2-legged with a requestor by either name, and 3-legged")
    func flows() async throws {
        try await TestStores.with(.sqlite) { store in
            let verifier = verifier(store)
            let plain = try await verifier.verify(try signed([("oauth_token", "")]), now: now)
            #expect(plain.flow == .twoLegged(requestor: nil))
            #expect(plain.consumer.appKey == "com.example.link")
            let byRequestorID = try await verifier.verify(try signed([], query: "xoauth_requestor_id=bob"), now: now)
            #expect(byRequestorID.flow == .twoLegged(requestor: "bob"))
            let byUserID = try await verifier.verify(try signed([("user_id", "carol")]), now: now)
            #expect(byUserID.flow == .twoLegged(requestor: "carol"))
            let threeLegged = try await verifier.verify(
                try signed([("oauth_token", "access-1"), ("oauth_session_handle", "h")]), now: now)
            #expect(threeLegged.flow == .threeLegged(token: "access-1"))
            #expect(threeLegged.sessionHandle == "h")
            #expect(threeLegged.callback == nil && threeLegged.verifier == nil)
        }
    }

    @Test("a replayed request is nonce_used, and a changed requestor breaks the signature")
    func replayAndTampering() async throws {
        try await TestStores.with(.sqlite) { store in
            let verifier = verifier(store)
            let request = try signed([], query: "xoauth_requestor_id=bob")
            _ = try await verifier.verify(request, now: now)
            await #expect(throws: OAuth1Problem(.nonceUsed, "")) { try await verifier.verify(request, now: now) }

            let fresh = try signed([], query: "xoauth_requestor_id=bob")
            let header = fresh.protocolParameters.all.filter { $0.name != "xoauth_requestor_id" }
                .map { "\($0.name)=\"\(OAuth1Request.encode($0.value))\"" }.joined(separator: ", ")
            let tampered = try OAuth1Request(
                header: header[...], method: "GET", baseURL: OAuth1FlowTests.baseURL,
                rawPath: "/rest/api/2/myself", rawQuery: "xoauth_requestor_id=alice")
            #expect(tampered.flow == .twoLegged(requestor: "alice"))
            await #expect(throws: OAuth1Problem(.signatureInvalid, "")) {
                try await verifier.verify(tampered, now: now)
            }
        }
    }
}
