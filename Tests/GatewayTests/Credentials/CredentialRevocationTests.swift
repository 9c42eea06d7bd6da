import Foundation
import Grants
import JWT
import Logging
import Policy
import Testing

@testable import Gateway

/// API tokens and OAuth 1.0a access tokens through `GrantServices` on a real store:
/// answered from memory once verified, and cut off by the revocations the command
/// line and the account page write, read back the way `RevocationSync` reads them.
@Suite("Verified credentials: revocations written to the store drop them")
struct CredentialRevocationTests {
    static let alice = "5b10ac8d82e05b22cc7d4ef5"

    func services() async throws -> GrantServices {
        let policy = try PolicyLoader.compile(folder: ExampleSite.folder, environment: [:])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linkgate-cache-\(UUID()).sqlite")
        let store = try await Store.open(.sqlite(path: path.path))
        return try await GrantServices.start(
            store: store, settings: policy.document.gateway, folder: ExampleSite.folder, metrics: nil,
            logger: Logger(label: "test"))
    }

    /// What `RevocationSync` does on one poll.
    func poll(_ grants: GrantServices) async throws {
        let started = ContinuousClock.now
        grants.revocations.insert(
            try await grants.store.revocations(sinceMilliseconds: UnixMilliseconds.now() - 10_000))
        grants.revocations.markSynced(at: started)
    }

    /// An access token issued to `consumer` for alice, through the request-token exchange.
    func oauth1Token(_ store: Store, consumer: String = "wiki-applink", lifetime: Int64 = 3600) async throws -> String {
        let request = SecureRandom.identifier()
        let access = SecureRandom.identifier()
        try await store.createRequestToken(
            request, secret: "s", consumerKey: consumer, appKey: "com.example.wiki", callback: "oob",
            expiresAt: UnixTime.now() + 600)
        #expect(try await store.decideRequestToken(request, accountId: Self.alice, verifier: "v"))
        let grant = OAuth1AccessGrant(
            token: access, secret: "secret", sessionHandle: "handle", expiresAt: UnixTime.now() + lifetime,
            sessionExpiresAt: UnixTime.now() + lifetime + 60, accountId: Self.alice)
        #expect(
            try await store.exchangeRequestToken(request, consumerKey: consumer, verifier: "v", grant: grant) == nil)
        return access
    }

    @Test("an API token is looked up once, then answered from memory until `api-token revoke` is polled")
    func apiToken() async throws {
        let grants = try await services()
        try await grants.store.createAPIToken(id: "at-1", token: "lgat_one", accountId: Self.alice, label: "ci")
        #expect(try await grants.liveAPIToken("lgat_one")?.id == "at-1")
        #expect(grants.apiTokens.count == 1)
        #expect(try await grants.liveAPIToken("lgat_wrong") == nil)
        #expect(grants.apiTokens.count == 1, "a refusal is not kept")

        // Revoked by another process: memory still answers until the poll...
        #expect(try await grants.store.revokeAPIToken(id: "at-1"))
        // (as long as the list is current: on a loaded machine the steps above may outlast its 1.5 s)
        grants.revocations.markSynced(at: .now)
        #expect(try await grants.liveAPIToken("lgat_one") != nil)
        // ...which brings the revocation in; then the store is asked, and says no.
        try await poll(grants)
        #expect(try await grants.liveAPIToken("lgat_one") == nil)
        #expect(grants.apiTokens.count == 0)
        await grants.store.close()
    }

    @Test("an OAuth 1.0a access token is cut off by `linkgate revoke --user`, the account page and renewal")
    func oauth1Token() async throws {
        let grants = try await services()
        let store = grants.store
        let first = try await oauth1Token(store)
        #expect(try await grants.liveOAuth1AccessToken(first, consumerKey: "wiki-applink").accountId == Self.alice)
        #expect(grants.oauth1Tokens.count == 1)
        await #expect(throws: OAuth1Problem(.tokenRejected, "")) {
            try await grants.liveOAuth1AccessToken(first, consumerKey: "another-consumer")
        }
        // `linkgate revoke --user` in another process: refused after the poll, with the store's reason.
        _ = try await store.revokeTokens(ofUser: Self.alice)
        try await poll(grants)
        await #expect(throws: OAuth1Problem(.tokenRevoked, "")) {
            try await grants.liveOAuth1AccessToken(first, consumerKey: "wiki-applink")
        }

        // The account page on this gateway: refused at once, no poll needed.
        let second = try await oauth1Token(store)
        _ = try await grants.liveOAuth1AccessToken(second, consumerKey: "wiki-applink")
        #expect(try await grants.revokeOAuth1(accountId: Self.alice, appKey: "com.example.wiki") == 1)
        await #expect(throws: OAuth1Problem(.tokenRevoked, "")) {
            try await grants.liveOAuth1AccessToken(second, consumerKey: "wiki-applink")
        }

        // Renewal on this gateway: the old token is refused at once.
        let third = try await oauth1Token(store)
        _ = try await grants.liveOAuth1AccessToken(third, consumerKey: "wiki-applink")
        let renewed = try await grants.renewAccessToken(
            third, sessionHandle: "handle", consumerKey: "wiki-applink",
            makeGrant: { user, end in
                OAuth1AccessGrant(
                    token: "renewed", secret: "s", sessionHandle: "handle", expiresAt: end, sessionExpiresAt: end,
                    accountId: user)
            })
        #expect((try? renewed.get())?.token == "renewed")
        await #expect(throws: OAuth1Problem(.tokenRevoked, "")) {
            try await grants.liveOAuth1AccessToken(third, consumerKey: "wiki-applink")
        }
        await store.close()
    }

    @Test("an expired OAuth 1.0a access token is refused from memory too")
    func oauth1Expiry() async throws {
        let grants = try await services()
        let token = try await oauth1Token(grants.store, lifetime: 30)
        _ = try await grants.liveOAuth1AccessToken(token, consumerKey: "wiki-applink")
        #expect(grants.oauth1Tokens.count == 1)
        await #expect(throws: OAuth1Problem(.tokenExpired, "")) {
            try await grants.liveOAuth1AccessToken(token, consumerKey: "wiki-applink", now: UnixTime.now() + 31)
        }
        await grants.store.close()
    }

    @Test("the fast path answers a Basic API token from memory once the store vouched for it, and only then")
    func basicFromMemory() async throws {
        let grants = try await services()
        let policy = try PolicyLoader.compile(folder: ExampleSite.folder, environment: [:])
        let snapshot = try PolicySnapshot(policy, generation: 1, services: grants)
        let authenticator = Authenticator(grants: grants, throttle: LoginThrottle())
        let login = try #require(policy.document.users.first { $0.accountId == Self.alice }?.name)
        try await grants.store.createAPIToken(id: "at-2", token: "lgat_two", accountId: Self.alice, label: "ci")
        let encoded = Substring(Data("\(login):lgat_two".utf8).base64EncodedString())
        let line = try RequestLine.parse(method: "GET", target: "/rest/api/3/project/PROJ")
        guard case .basic = try authenticator.verifyWithoutStore(.basic(encoded), request: line, snapshot: snapshot)
        else {
            Issue.record("a token the store has not vouched for was answered without it")
            return
        }
        let verified = try await authenticator.authenticate(.basic(encoded), request: line, snapshot: snapshot)
        #expect(verified?.identity.user.accountId == Self.alice)
        guard
            case .verified(let fromMemory) = try authenticator.verifyWithoutStore(
                .basic(encoded), request: line, snapshot: snapshot)
        else {
            Issue.record("a token the store vouched for was not answered from memory")
            return
        }
        #expect(fromMemory?.identity.user.accountId == Self.alice)
        // Another login with the same token: memory does not answer; the store path refuses it.
        let other = Substring(Data("someone-else:lgat_two".utf8).base64EncodedString())
        guard case .basic = try authenticator.verifyWithoutStore(.basic(other), request: line, snapshot: snapshot)
        else {
            Issue.record("a token was answered from memory for another login")
            return
        }
        await #expect(throws: GatewayError(.badAPIToken, "")) {
            try await authenticator.authenticate(.basic(other), request: line, snapshot: snapshot)
        }
        // Revoked and polled: memory no longer answers.
        #expect(try await grants.store.revokeAPIToken(id: "at-2"))
        try await poll(grants)
        guard case .basic = try authenticator.verifyWithoutStore(.basic(encoded), request: line, snapshot: snapshot)
        else {
            Issue.record("a revoked token was answered from memory")
            return
        }
        await grants.store.close()
    }
}
