import Testing

@testable import Scopes

@Suite("A route with appKeyParameter serves only the app its path names")
struct AppKeyParameterTests {
    static let appUser = ActingUser(accountId: "app-reports")
    static let path = "/addons/{addonKey}/properties/{propertyKey}"

    static func policy() throws -> DecisionPolicy {
        let routes = try RouteTable([
            RouteRule(
                index: 0, methods: ["GET"], path: path, upstream: "jira", scopes: [Scope("READ")],
                contextJWT: true, appKeyParameter: "addonKey")
        ])
        return DecisionPolicy(
            implication: try ScopeImplication(implies: [:]), permissions: PermissionTable([]), routes: routes)
    }

    static func decide(
        _ target: String, credential: CredentialKind = .connectJWT, appKey: String? = "com.example.reports"
    ) throws -> Decision {
        Scopes.decide(
            DecisionRequest(
                credential: credential, appKey: appKey, user: appUser, heldScopes: ScopeSet([Scope("READ")]),
                method: "GET", target: target),
            policy: try policy())
    }

    @Test(
        "the calling app's own key passes, also percent-encoded",
        arguments: ["/addons/com.example.reports/properties/p", "/addons/com%2Eexample.reports/properties/p"])
    func ownKey(target: String) throws {
        #expect(try Self.decide(target).isAllowed)
    }

    @Test(
        "another app's key, a prefix or a case variant is a 403 not_calling_app",
        arguments: [
            "/addons/com.example.automation/properties/p", "/addons/com.example/properties/p",
            "/addons/COM.EXAMPLE.REPORTS/properties/p", "/addons/com.example.reports%00/properties/p",
        ])
    func otherKey(target: String) throws {
        let decision = try Self.decide(target)
        #expect(decision.denial == .notCallingApp(parameter: "addonKey", credentialHasApp: true))
        #expect(decision.denial?.status == 403 && decision.denial?.error == "insufficient_permission")
        #expect(decision.denial?.code == "not_calling_app")
        #expect(decision.explanation.contains("DENY insufficient_permission (403)"))
    }

    @Test("a credential without an app (Basic) names no app")
    func basicHasNoApp() throws {
        let decision = try Self.decide(
            "/addons/com.example.reports/properties/p", credential: .basic, appKey: nil)
        #expect(decision.denial == .notCallingApp(parameter: "addonKey", credentialHasApp: false))
        #expect(decision.denial?.message.contains("no app") == true)
    }

    @Test("the parameter must be a one-segment parameter of a route that is not public")
    func ruleChecks() {
        #expect(throws: ScopesError.self) {
            try RouteRule(index: 0, methods: ["GET"], path: "/a/{key}", upstream: "u", appKeyParameter: "other")
        }
        #expect(throws: ScopesError.self) {
            try RouteRule(index: 0, methods: ["GET"], path: "/a/{key*}", upstream: "u", appKeyParameter: "key")
        }
        #expect(throws: ScopesError.self) {
            try RouteRule(
                index: 0, methods: ["GET"], path: "/a/{key}", upstream: "u", isPublic: true, appKeyParameter: "key")
        }
    }
}
