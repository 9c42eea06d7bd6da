import Scopes
import Testing

@testable import Policy

@Suite("Secrets from policy files")
struct PolicyLoadingSecretTests {
    static let value = "an-environment-secret-of-more-than-32-bytes"

    private func app(
        secret: String, files: [String: String?] = [:], environment: [String: String] = [:]
    ) throws -> AppPolicy {
        var all = files
        all["apps/demo.json"] = "{\"key\": \"k\", \"sharedSecret\": \(secret), \"appUser\": \"app-demo\"}"
        let folder = try PolicyFixtures.folder(files: all)
        return try #require(try PolicyLoader.load(folder: folder.path, environment: environment).app(key: "k"))
    }

    @Test func fromTheEnvironment() throws {
        let secret = try #require(
            try app(secret: "{\"env\": \"DEMO_SECRET\"}", environment: ["DEMO_SECRET": Self.value]).sharedSecret)
        #expect(secret.string == Self.value)
        #expect(secret.origin == .environment("DEMO_SECRET"))
    }

    @Test(arguments: [("\n", ""), ("\r\n", ""), ("\n\n", "\n"), ("", "")])
    func fromAFileLessOneTrailingNewline(ending: String, kept: String) throws {
        let files: [String: String?] = ["secrets/demo.txt": Self.value + ending]
        let secret = try #require(try app(secret: "{\"file\": \"secrets/demo.txt\"}", files: files).sharedSecret)
        #expect(secret.string == Self.value + kept)
        #expect(secret.origin == .file("secrets/demo.txt"))
    }

    @Test func neverPrintsItsValue() {
        let secret = Secret(Self.value, origin: .environment("DEMO_SECRET"))
        var dumped = ""
        dump(secret, to: &dumped)
        for text in ["\(secret)", String(reflecting: secret), String(describing: secret), dumped, "\([secret])"] {
            #expect(!text.contains(Self.value), "\(text)")
        }
        #expect("\(secret)".contains("DEMO_SECRET"))
    }

    @Test func problemsNeverHoldTheValue() throws {
        let folder = try PolicyFixtures.folder(files: [
            "apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": \"tiny-secret\", \"appUser\": \"app-demo\"}"
        ])
        let text = PolicyFixtures.problems(folder.path).map(\.description).joined()
        #expect(text.contains("at least 32 bytes"))
        #expect(!text.contains("tiny-secret"))
    }
}

@Suite("Defaults of the policy files (docs/policies.md §3–§7)")
struct PolicyLoadingDefaultTests {
    let document: PolicyDocument

    init() throws {
        let folder = try PolicyFixtures.folder()
        document = try PolicyLoader.load(folder: folder.path, environment: [:])
    }

    @Test func gatewayDefaults() {
        let gateway = document.gateway
        #expect(gateway.baseUrl == "https://linkgate.example.com")  // trailing slash removed
        #expect(gateway.listen == "127.0.0.1:8080")
        #expect(gateway.adminListen == "127.0.0.1:8081")
        #expect(gateway.store == "sqlite:var/linkgate.sqlite")
        #expect(gateway.clockSkewSeconds == 30)
        #expect(gateway.accessTokens == AccessTokenSettings(algorithm: "ES256", keyFile: nil))
        #expect(gateway.lifetimes == Lifetimes())
        #expect(gateway.lifetimes.refreshTokenInactivity == 7_776_000 && gateway.lifetimes.assertionMax == 60)
        #expect(gateway.assertionAudiences == [])
        #expect(gateway.site.id == nil)
        #expect(gateway.basicAuth)
        #expect(gateway.login == LoginSettings(local: true, trustedHeader: nil))
    }

    @Test func appUserGrantAndRouteDefaults() throws {
        let app = try #require(document.apps.first)
        #expect(app.name == app.key && app.enabled)
        #expect(app.scopes == ["READ", "ACT_AS_USER"])  // Connect names upper-cased
        #expect(app.oauth2 == nil && app.oauth1 == nil && app.oauthClientId == nil)
        let user = try #require(document.user(accountId: "app-demo"))
        #expect(user.active && user.displayName == user.name && user.groups.isEmpty && user.email == nil)
        let route = try #require(document.routes.first)
        #expect(!route.isPublic && !route.contextJwt)
        #expect(route.template.segments == [.literal("projects"), .parameter("key")])
        #expect(document.upstreams.first.map { ($0.connectTimeoutMs, $0.requestTimeoutMs) } ?? (0, 0) == (1000, 30000))
        #expect(document.scopeImplications.isEmpty)
        #expect(document.summary == "1 app, 1 route, 1 upstream, 2 users, 2 grants")
    }

    @Test func permissionWithoutResourceMeansGlobal() throws {
        let route =
            "{\"methods\": [\"GET\"], \"path\": \"/admin\", \"upstream\": \"backend\", \"scopes\": [\"ADMIN\"], \"permission\": \"ADMINISTER\"}"
        let folder = try PolicyFixtures.folder(files: Broken.route(String(route.dropFirst().dropLast())))
        let document = try PolicyLoader.load(folder: folder.path, environment: [:])
        #expect(document.routes.first?.resource == "global")
    }

    @Test func queryParametersMayFeedResources() throws {
        let folder = try PolicyFixtures.folder(
            files: Broken.route(
                "\(Broken.get), \"path\": \"/issue/{key}\", \"scopes\": [\"WRITE\"], \"permission\": \"EDIT_ISSUES\", \"resource\": \"project:{query.projectKey}\""
            ))
        #expect(PolicyFixtures.problems(folder.path) == [])
    }

    @Test func fullGatewayFileIsRead() throws {
        let folder = try PolicyFixtures.folder(
            files: Broken.gateway(
                """
                "listen": "0.0.0.0:0", "adminListen": "[::1]:9", "store": "postgres://u:p@db:5432/linkgate",
                "accessTokens": {"algorithm": "EdDSA", "keyFile": "keys/consumer.public.pem"},
                "lifetimes": {"assertionMax": 120}, "assertionAudiences": ["https://auth.atlassian.io"],
                "site": {"id": "s1", "name": "Site"}, "basicAuth": false, "login": {"local": false, "trustedHeader": "X-User"}
                """))
        let gateway = try PolicyLoader.load(folder: folder.path, environment: [:]).gateway
        #expect(gateway.listen == "0.0.0.0:0" && gateway.adminListen == "[::1]:9")
        #expect(gateway.store.hasPrefix("postgres://") && gateway.accessTokens.algorithm == "EdDSA")
        #expect(gateway.lifetimes.assertionMax == 120 && gateway.lifetimes.connectJwtMax == 3600)
        #expect(gateway.assertionAudiences == ["https://auth.atlassian.io"])
        #expect(gateway.site == SiteSettings(id: "s1", name: "Site") && !gateway.basicAuth)
        #expect(gateway.login == LoginSettings(local: false, trustedHeader: "X-User"))
    }
}
