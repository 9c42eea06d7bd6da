import Foundation
import Grants
import JWT
import Policy
import Testing

/// The install key in the store and the signed lifecycle callback
/// (docs/connect-install.md, docs/protocols.md §7).
@Suite("Connect install: the install key and the signed callback")
struct ConnectInstallKeyTests {
    static let lifecycle = ConnectLifecycle(
        baseUrl: "https://hello.example.com/app", paths: ["installed": "/installed", "disabled": "/life?e=disabled"])
    static let site = LifecycleSite(
        clientKey: "site-123", baseUrl: "https://jira-gw.example.com", description: "Example site")

    @Test("the installed callback: its payload, and a token signed RS256 with iss, aud, qsh and the kid")
    func installedCallback() throws {
        let key = try JWTKey.generate(.rs256, keyID: "lg-install-test")
        let callback = try #require(
            try LifecycleCallback.make(
                .installed, appKey: "com.example.hello", lifecycle: Self.lifecycle, site: Self.site,
                sharedSecret: "s3cret-s3cret-s3cret-s3cret-s3cret", oauthClientId: "hello-2loi", key: key,
                issuedAt: 1_000))
        #expect(callback.url == "https://hello.example.com/app/installed")
        let payload = try JSONValue.parse(callback.body)
        #expect(payload["key"]?.stringValue == "com.example.hello")
        #expect(payload["clientKey"]?.stringValue == "site-123")
        #expect(payload["sharedSecret"]?.stringValue == "s3cret-s3cret-s3cret-s3cret-s3cret")
        #expect(payload["baseUrl"]?.stringValue == "https://jira-gw.example.com")
        #expect(payload["displayUrl"]?.stringValue == "https://jira-gw.example.com")
        #expect(payload["productType"]?.stringValue == "jira")
        #expect(payload["description"]?.stringValue == "Example site")
        #expect(payload["eventType"]?.stringValue == "installed")
        #expect(payload["oauthClientId"]?.stringValue == "hello-2loi")

        #expect(callback.authorization.hasPrefix("JWT "))
        let token = String(callback.authorization.dropFirst(4))
        let publicKey = try JWTKey.pem(try #require(key.publicKeyPEM()), algorithm: .rs256, keyID: "lg-install-test")
        var rules = ClaimRules()
        rules.issuers = ["site-123"]
        rules.audiences = ["https://hello.example.com/app"]
        let verified = try JWTVerifier(key: publicKey, rules: rules).verify(token, now: 1_010)
        #expect(verified.keyID == "lg-install-test")
        #expect(verified.header.algorithm == .rs256)
        #expect(
            verified.claims["qsh"]?.stringValue
                == (try CanonicalRequest(method: "POST", rawPath: "/installed", rawQuery: "")).queryStringHash)
        #expect(
            verified.claims["qsh"]?.stringValue == Hex.lowercase(Digest.sha256.hash(Array("POST&/installed&".utf8))))
        #expect(try verified.claims.expiresAt() == 1_000 + LifecycleCallback.lifetime)
    }

    @Test("other events carry no secret; a query in the lifecycle path is in the qsh; an event without a path is none")
    func otherEvents() throws {
        let key = try JWTKey.generate(.rs256, keyID: "k")
        let disabled = try #require(
            try LifecycleCallback.make(
                .disabled, appKey: "a", lifecycle: Self.lifecycle, site: Self.site, sharedSecret: "ignored", key: key))
        #expect(try JSONValue.parse(disabled.body)["sharedSecret"] == nil)
        #expect(try JSONValue.parse(disabled.body)["eventType"]?.stringValue == "disabled")
        #expect(disabled.url == "https://hello.example.com/app/life?e=disabled")
        let expected = try CanonicalRequest(method: "POST", rawPath: "/life", rawQuery: "e=disabled").queryStringHash
        #expect(disabled.claims["qsh"]?.stringValue == expected)
        #expect(
            try LifecycleCallback.make(.uninstalled, appKey: "a", lifecycle: Self.lifecycle, site: Self.site, key: key)
                == nil)
    }

    @Test(
        "the install key is made once and kept: the same kid every time, its public key by kid",
        arguments: TestStores.available)
    func storedKey(_ kind: TestStores.Kind) async throws {
        try await TestStores.with(kind) { store in
            #expect(try await store.connectInstallPublicKey(kid: "lg-install-x") == nil)
            let first = try await store.connectInstallKey()
            let second = try await store.connectInstallKey()
            let kid = try #require(first.keyID)
            #expect(kid.hasPrefix("lg-install-"))
            #expect(second.keyID == kid)
            #expect(first.algorithm == .rs256 && first.canSign)
            let pem = try #require(try await store.connectInstallPublicKey(kid: kid))
            #expect(pem == first.publicKeyPEM())
            #expect(try await store.connectInstallPublicKey(kid: kid + "x") == nil)
            // The access-token key is another slot: both live side by side.
            let accessKey = try await store.accessTokenKey()
            #expect(accessKey.keyID != kid)
            #expect(try await store.connectInstallKey().keyID == kid)
        }
    }
}
