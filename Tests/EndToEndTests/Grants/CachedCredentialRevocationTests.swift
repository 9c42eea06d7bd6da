import Foundation
import Grants
import JWT
import Testing

/// API tokens and OAuth 1.0a access tokens are answered from memory once the store
/// vouched for them (docs/links.md, "Verified credentials in memory"); a revocation
/// from the command line still reaches both gateways sharing the store within 2 s.
@Suite("Cached credentials across gateways: revoked on the command line, refused everywhere within 2 s")
struct CachedCredentialRevocationTests {
    static let target = "/rest/api/3/project/PROJ"
    static let privateKey = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "policies/keys/applink-demo-only.private.pem")

    /// Both gateways answer `status` to what `send` sends them, within 2 s of `started`.
    func bothAnswer(
        _ status: Int, _ fixture: GatewayFixture, ports: [Int], _ send: (Int) async throws -> Int
    ) async throws -> Bool {
        try await fixture.eventually(within: 2) {
            for port in ports where try await send(port) != status { return false }
            return true
        }
    }

    func linkgate(_ arguments: [String], _ fixture: GatewayFixture) async throws -> LinkgateProcess.Result {
        let result = try await LinkgateProcess.runAsync(
            arguments + ["--policies", fixture.folder.path, "--store", try #require(fixture.store)])
        #expect(result.status == 0, "\(arguments.prefix(2)): \(result.standardError)")
        return result
    }

    @Test(
        "an API token and an OAuth 1.0a access token used on two gateways, revoked by the command line",
        .enabled(if: StoreKind.available.contains(.postgres), "needs the test PostgreSQL cluster (make test)"))
    func revokedOnBoth() async throws {
        let fixture = try await GatewayFixture(.postgres)
        let (second, secondPort) = try await fixture.secondGateway()
        defer { second.stop() }
        let ports = [fixture.port, secondPort]

        // API token: used twice on each gateway (the second use is answered from memory).
        let created = try await linkgate(
            ["api-token", "create", "--user", ExampleSite.alice, "--label", "e2e"], fixture)
        let token = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let basic = ("Authorization", "Basic " + Data("alice:\(token)".utf8).base64EncodedString())
        func sendBasic(_ port: Int) async throws -> Int {
            try await fixture.send(.GET, Self.target, headers: [basic], port: port).status
        }
        for port in ports + ports { #expect(try await sendBasic(port) == 200) }

        // OAuth 1.0a access token for alice, issued through the store as the access-token step does.
        let store = try await Store.open(try StoreLocation(parsing: try #require(fixture.store)))
        let access = try await Self.issueAccessToken(store)
        await store.close()
        let signer = try RSASHA1Key(pem: String(contentsOf: Self.privateKey, encoding: .utf8))
        func sendOAuth1(_ port: Int) async throws -> Int {
            let header = try Self.signedHeader(token: access, key: signer)
            return try await fixture.send(.GET, Self.target, headers: [("Authorization", header)], port: port).status
        }
        for port in ports + ports { #expect(try await sendOAuth1(port) == 200) }

        let listed = try await linkgate(["api-token", "list", "--user", ExampleSite.alice], fixture)
        let id = try #require(listed.standardOutput.split(separator: " ").first.map(String.init))
        _ = try await linkgate(["api-token", "revoke", id], fixture)
        var started = Date()
        let basicRefused = try await bothAnswer(401, fixture, ports: ports, sendBasic)
        #expect(basicRefused, "a gateway still took the API token \(Date().timeIntervalSince(started)) s later")
        #expect(try await sendOAuth1(secondPort) == 200, "the OAuth 1.0a token is not revoked yet")

        _ = try await linkgate(["revoke", "--user", ExampleSite.alice], fixture)
        started = Date()
        let oauth1Refused = try await bothAnswer(401, fixture, ports: ports, sendOAuth1)
        #expect(oauth1Refused, "a gateway still took the access token \(Date().timeIntervalSince(started)) s later")
    }

    /// An access token of the demo application link for alice, made in the store directly.
    static func issueAccessToken(_ store: Store) async throws -> String {
        let request = SecureRandom.identifier()
        let access = SecureRandom.identifier()
        let now = UnixTime.now()
        try await store.createRequestToken(
            request, secret: "unused", consumerKey: "wiki-applink", appKey: "com.example.wiki", callback: "oob",
            expiresAt: now + 600)
        #expect(try await store.decideRequestToken(request, accountId: ExampleSite.alice, verifier: "v"))
        let grant = OAuth1AccessGrant(
            token: access, secret: "unused", sessionHandle: SecureRandom.identifier(), expiresAt: now + 3600,
            sessionExpiresAt: now + 7200, accountId: ExampleSite.alice)
        let problem = try await store.exchangeRequestToken(
            request, consumerKey: "wiki-applink", verifier: "v", grant: grant)
        #expect(problem == nil)
        return access
    }

    /// `OAuth …` for a GET of `target` signed RSA-SHA1 with a fresh nonce: 3-legged with
    /// `token`, 2-legged without (acting as `requestor`, if given). The base string
    /// uses the site's `baseUrl`, so the same header is good on either gateway's port.
    static func signedHeader(token: String?, requestor: String? = nil, key: RSASHA1Key) throws -> String {
        var parameters = [
            ("oauth_consumer_key", "wiki-applink"), ("oauth_signature_method", "RSA-SHA1"),
            ("oauth_timestamp", String(UnixTime.now())), ("oauth_nonce", SecureRandom.identifier()),
            ("oauth_version", "1.0"),
        ]
        if let token { parameters.append(("oauth_token", token)) }
        if let requestor { parameters.append(("xoauth_requestor_id", requestor)) }
        func header() -> String {
            parameters.map { "\($0.0)=\"\(OAuth1Request.encode($0.1))\"" }.joined(separator: ", ")
        }
        let request = try OAuth1Request(
            header: header()[...], method: "GET", baseURL: GatewayFixture.site,
            rawPath: Substring(target), rawQuery: nil)
        let signature = try key.sign(Array(request.signatureBaseString.utf8))
        parameters.append(("oauth_signature", Data(signature).base64EncodedString()))
        return "OAuth " + header()
    }
}
