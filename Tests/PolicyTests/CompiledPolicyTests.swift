import Foundation
import JWT
import Scopes
import Testing

@testable import Policy

@Suite("Compiled policy and identities (docs/gateway.md §3)")
struct CompiledPolicyTests {
    static let alice = "5b10ac8d82e05b22cc7d4ef5"
    static let bob = "5b10a2844c20165700ede21g"
    static let carol = "5b109f2e9729b51b54dc274d"

    let policy = try! PolicyLoader.compile(folder: PolicyFixtures.exampleSite, environment: [:])

    @Test("the example site compiles into a route table of every route")
    func compiles() {
        #expect(policy.decision.routes.rules.count == policy.document.routes.count)
        #expect(policy.connectKey(forApp: "com.example.reports")?.algorithm == .hs256)
        #expect(policy.connectKey(forApp: "com.example.wiki") == nil)
        #expect(policy.basePath == "")
    }

    @Test("a Connect JWT acts as the app user with the app's scopes; sub is ignored")
    func connectIdentity() throws {
        let identity = try policy.identity(for: .connectJWT, appKey: "com.example.reports", accountId: Self.alice)
        #expect(identity.user.accountId == "app-reports")
        #expect(identity.scopes == ["READ"])
        #expect(identity.impliedScopes == ["READ", "NONE"])
    }

    @Test("a 2LOi token holds its scopes intersected with the app's scopes now")
    func bearerIdentity() throws {
        let narrowed = try policy.identity(
            for: .jwtBearer, appKey: "com.example.automation", accountId: Self.bob,
            requestedScopes: ["READ", "ADMIN"])
        #expect(narrowed.user.accountId == Self.bob)
        #expect(narrowed.scopes == ["READ"])
        let all = try policy.identity(for: .jwtBearer, appKey: "com.example.automation", accountId: Self.bob)
        #expect(all.scopes == ["READ", "WRITE", "DELETE", "ACT_AS_USER"])
        #expect(all.impliedScopes == policy.decision.implication.closure(of: all.scopes))
    }

    @Test("a 3LO token holds the consented scopes within the app's oauth2 scopes")
    func authorizationCodeIdentity() throws {
        let identity = try policy.identity(
            for: .authorizationCode, appKey: "com.example.automation",
            accountId: Self.alice, requestedScopes: ["read:jira-work", "manage:jira-project"])
        #expect(identity.scopes == ["read:jira-work"])
        #expect(throws: IdentityProblem.self) {
            try policy.identity(for: .authorizationCode, appKey: "com.example.reports", accountId: Self.alice)
        }
    }

    @Test("2-legged OAuth 1.0a acts as the link's execute-as user; Basic needs no app")
    func otherIdentities() throws {
        #expect(
            try policy.identity(for: .oauth1TwoLegged, appKey: "com.example.wiki", accountId: nil).user.accountId
                == "app-wiki")
        let basic = try policy.identity(for: .basic, appKey: nil, accountId: Self.alice)
        #expect(basic.appKey == nil && basic.scopes.isEmpty)
    }

    @Test("unknown or inactive users, unknown or disabled apps are refused, each with its code")
    func refusals() throws {
        func code(_ body: () throws(IdentityProblem) -> Identity) -> IdentityProblem.Code? {
            do {
                _ = try body()
                return nil
            } catch { return error.code }
        }
        #expect(
            code { () throws(IdentityProblem) in try policy.identity(for: .basic, appKey: nil, accountId: Self.carol) }
                == .userInactive)
        #expect(
            code { () throws(IdentityProblem) in try policy.identity(for: .basic, appKey: nil, accountId: "nobody") }
                == .unknownUser)
        #expect(
            code { () throws(IdentityProblem) in
                try policy.identity(for: .connectJWT, appKey: "com.example.none", accountId: nil)
            } == .unknownApp)
        #expect(
            code { () throws(IdentityProblem) in
                try policy.identity(for: .jwtBearer, appKey: "com.example.automation", accountId: nil)
            } == .userRequired)

        var apps = policy.document.apps
        apps[apps.firstIndex { $0.key == "com.example.reports" }!].enabled = false
        let document = policy.document
        let disabled = try CompiledPolicy(
            PolicyDocument(
                folder: document.folder, gateway: document.gateway, apps: apps, users: document.users,
                grants: document.grants,
                upstreams: document.upstreams, routes: document.routes, scopeImplications: document.scopeImplications))
        #expect(
            code { () throws(IdentityProblem) in
                try disabled.identity(for: .connectJWT, appKey: "com.example.reports", accountId: nil)
            } == .appDisabled)
    }

    @Test("each app's Connect identity, formed once at compile time, is what forming it per request gives")
    func connectIdentitiesFormedOnce() throws {
        var apps = policy.document.apps
        apps[apps.firstIndex { $0.key == "com.example.reports" }!].enabled = false
        var users = policy.document.users
        let wiki = apps.first { $0.key == "com.example.wiki" }!
        users.removeAll { $0.accountId == wiki.appUser }
        let document = policy.document
        let changed = try CompiledPolicy(
            PolicyDocument(
                folder: document.folder, gateway: document.gateway, apps: apps, users: users,
                grants: document.grants, upstreams: document.upstreams, routes: document.routes,
                scopeImplications: document.scopeImplications))
        for compiled in [policy, changed] {
            for app in compiled.document.apps {
                let cached = Result { () throws(IdentityProblem) in
                    try compiled.identity(for: .connectJWT, appKey: app.key, accountId: Self.alice)
                }
                let formed = Result { () throws(IdentityProblem) in
                    try compiled.formIdentity(for: .connectJWT, appKey: app.key, accountId: nil)
                }
                #expect(cached == formed, "\(app.key)")
                #expect(compiled.connectIdentities[app.key] != nil, "\(app.key)")
            }
        }
        #expect(throws: IdentityProblem(code: .appDisabled, message: "the app com.example.reports is disabled")) {
            try changed.identity(for: .connectJWT, appKey: "com.example.reports", accountId: nil)
        }
        #expect((try? changed.identity(for: .connectJWT, appKey: "com.example.wiki", accountId: nil)) == nil)
        #expect(
            try policy.identity(for: .connectJWT, appKey: "com.example.reports", accountId: nil).scopeList == "READ")
        let automation = try policy.identity(for: .jwtBearer, appKey: "com.example.automation", accountId: Self.bob)
        #expect(automation.scopeList == automation.scopes.sorted.map(\.name).joined(separator: " "))
    }

    @Test("route ties are found by the decision module's matcher and reported at the second route")
    func ties() throws {
        var routes = policy.document.routes
        var copy = routes[14]
        copy.source = PolicyLocation(file: "routes.json", pointer: "/routes/\(routes.count)")
        routes.append(copy)
        let problems = CompiledPolicy.routeTieProblems(routes)
        #expect(problems.count == 1)
        #expect(problems.first?.pointer == "/routes/\(routes.count - 1)")
        #expect(CompiledPolicy.routeTieProblems(policy.document.routes).isEmpty)
    }
}
