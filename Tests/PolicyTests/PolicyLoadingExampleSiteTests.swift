import Scopes
import Testing

@testable import Policy

@Suite("The example site in policies/")
struct PolicyLoadingExampleSiteTests {
    let document: PolicyDocument

    init() throws {
        document = try PolicyLoader.load(folder: PolicyFixtures.exampleSite, environment: [:])
    }

    @Test func loadsWithoutProblems() {
        #expect(PolicyFixtures.problems(PolicyFixtures.exampleSite) == [])
    }

    @Test func hasTheExpectedShape() {
        #expect(document.gateway.baseUrl == "http://127.0.0.1:8080")
        #expect(document.apps.map(\.key) == ["com.example.automation", "com.example.reports", "com.example.wiki"])
        #expect(document.users.count == 6)
        #expect(document.upstreams.map(\.name) == ["jira"])
        #expect(document.upstreams.first?.url == "http://127.0.0.1:9000")
        #expect(document.routes.count >= 25)
        #expect(document.grants.count == 21)
        #expect(document.scopeImplications.map(\.scope) == ["write:jira-work"])
    }

    @Test func reportingAppIsReadOnlyAndMayBrowseProjOnly() throws {
        let app = try #require(document.app(key: "com.example.reports"))
        #expect(app.scopes == ["READ"])
        let appGrants = document.grants.filter { $0.grantee == .user("app-reports") }
        #expect(
            appGrants.contains {
                $0.permission == "BROWSE_PROJECTS" && $0.resource == .item(type: "project", id: "PROJ")
            })
        #expect(!appGrants.contains { $0.resource == .item(type: "project", id: "SECRET") })
    }

    @Test func automationAppIsA3LOClientThatActsAsUsers() throws {
        let app = try #require(document.app(key: "com.example.automation"))
        #expect(app.scopes.contains("ACT_AS_USER"))
        let client = try #require(app.oauth2)
        #expect(client.scopes.contains("offline_access"))
        #expect(client.clientSecret != nil)
    }

    @Test func applinkHasAPublicKeyAndADemoPrivateKey() throws {
        let consumer = try #require(document.app(key: "com.example.wiki")?.oauth1)
        #expect(consumer.publicKeyPEM.contains("-----BEGIN PUBLIC KEY-----"))
        #expect(consumer.twoLegged == TwoLegged(enabled: true, executeAs: "app-wiki"))
        let folder = PolicyFolder(path: PolicyFixtures.exampleSite, environment: [:], log: ProblemLog())
        let privateKey = try #require(folder.contents(of: "keys/applink-demo-only.private.pem"))
        #expect(String(decoding: privateKey, as: UTF8.self).contains("PRIVATE KEY"))
    }

    @Test func hasPublicAdminAndContextJwtRoutes() {
        let byPath = Dictionary(grouping: document.routes, by: \.path)
        #expect(byPath["/rest/api/3/serverInfo"]?.first?.isPublic == true)
        #expect(byPath["/static/{rest*}"]?.first?.template.segments.last == .rest("rest"))
        #expect(byPath["/rest/api/3/application-properties"]?.first?.permission == "ADMINISTER")
        #expect(document.routes.contains { $0.contextJwt })
        // The app-properties route serves only the calling app (docs/policies.md, safe patterns).
        let properties = byPath["/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}"]?.first
        #expect(properties?.appKeyParameter == "addonKey")
    }
}
