import Testing

@testable import Scopes

/// The example permissions and routes of docs/policies.md §6 and §7, plus two routes, decided end to end.
@Suite struct DecisionTests {
    static let policy: DecisionPolicy = {
        let routes = try! RouteTable([
            RouteRule(
                index: 0, methods: ["GET", "HEAD"], path: "/rest/api/3/project/{projectKey}", upstream: "jira",
                scopes: ["READ", "read:jira-work"], permission: "BROWSE_PROJECTS", resource: "project:{projectKey}"),
            RouteRule(
                index: 1, methods: ["PUT"], path: "/rest/api/3/issue/{issueKey}", upstream: "jira",
                scopes: ["WRITE", "write:jira-work"], permission: "EDIT_ISSUES", resource: "project:{query.projectKey}"),
            RouteRule(index: 2, methods: ["GET"], path: "/status", upstream: "jira", isPublic: true),
            RouteRule(index: 3, methods: ["GET"], path: "/static/{rest*}", upstream: "jira", isPublic: true),
            RouteRule(index: 4, methods: ["GET"], path: "/rest/api/3/myself", upstream: "jira", scopes: ["READ"]),
            RouteRule(
                index: 5, methods: ["POST"], path: "/rest/api/3/admin", upstream: "jira", scopes: ["ADMIN"],
                permission: "ADMINISTER", resource: "global"),
        ])
        let permissions = PermissionTable([
            PermissionGrant(
                permission: "BROWSE_PROJECTS", resource: .everyItem(type: "project"), grantee: .group("jira-users")),
            PermissionGrant(
                permission: "EDIT_ISSUES", resource: .item(type: "project", id: "PROJ"), grantee: .user("alice")),
            PermissionGrant(
                permission: "BROWSE_PROJECTS", resource: .item(type: "project", id: "PROJ"),
                grantee: .user("app-reports")),
            PermissionGrant(permission: "ADMINISTER", resource: .global, grantee: .group("jira-admins")),
        ])
        let implication = try! ScopeImplication(implies: ["write:jira-work": ["read:jira-work"]])
        return DecisionPolicy(implication: implication, permissions: permissions, routes: routes)
    }()

    static let alice = ActingUser(accountId: "alice", groups: ["jira-users"])
    static let appUser = ActingUser(accountId: "app-reports")

    func decide(
        _ credential: CredentialKind, user: ActingUser? = alice, scopes: ScopeSet = [],
        _ method: String, _ target: String
    ) -> Decision {
        Scopes.decide(
            DecisionRequest(
                credential: credential, appKey: credential == .basic ? nil : "com.example.reports", user: user,
                heldScopes: scopes, method: method, target: target),
            policy: Self.policy)
    }

    @Test func connectJWTWithImpliedScopeAndPermissionIsAllowed() {
        let decision = decide(.connectJWT, user: Self.appUser, scopes: ["ADMIN"], "GET", "/rest/api/3/project/PROJ")
        #expect(decision.isAllowed)
        let trace = decision.trace
        #expect(trace.route?.rule.index == 0)
        #expect(trace.route?[parameter: "projectKey"] == "PROJ")
        #expect(trace.scopesRequired == ["READ", "read:jira-work"])
        #expect(trace.scopesHeld?.contains("READ") == true)
        #expect(trace.permission == "BROWSE_PROJECTS")
        #expect(trace.resource == .resolved(.item(type: "project", id: "PROJ")))
        #expect(trace.matchingGrants.map(\.index) == [2])
        #expect(trace.verdicts.map(\.check) == [.route, .credential, .scope, .permission])
    }

    @Test func noRouteIs404() {
        let decision = decide(.connectJWT, scopes: ["READ"], "GET", "/nowhere")
        #expect(decision.denial == .noRoute(method: "GET", path: "/nowhere"))
        #expect(decision.denial?.status == 404)
        #expect(decision.denial?.error == "not_found")
        #expect(decide(.connectJWT, scopes: ["READ"], "DELETE", "/rest/api/3/project/PROJ").denial?.status == 404)
        #expect(decision.trace.verdicts.count == 1)
    }

    @Test func anonymousOnNonPublicRouteIs401() {
        let decision = decide(.anonymous, user: nil, "GET", "/rest/api/3/myself")
        #expect(decision.denial == .unauthenticated)
        #expect(decision.denial?.status == 401)
    }

    @Test(arguments: [CredentialKind.anonymous, .connectJWT, .basic])
    func publicRouteAllowsAnyoneWithoutTests(credential: CredentialKind) {
        let decision = decide(credential, user: credential == .anonymous ? nil : Self.alice, "GET", "/static/a/b.css")
        #expect(decision.isAllowed)
        #expect(decision.trace.verdict(of: .scope)?.outcome == .skipped(.publicRoute))
        #expect(decision.trace.verdict(of: .permission)?.outcome == .skipped(.publicRoute))
    }

    @Test func missingScopeIs403NamingTheAlternatives() {
        let decision = decide(
            .jwtBearer, scopes: ["ACT_AS_USER", "read:jira-work"], "PUT", "/rest/api/3/issue/X-1?projectKey=PROJ")
        #expect(decision.denial == .insufficientScope(required: ["WRITE", "write:jira-work"]))
        #expect(decision.denial?.status == 403)
        #expect(decision.denial?.error == "insufficient_scope")
        #expect(decision.denial?.message.contains("write:jira-work") == true)
        // The permission test does not run after a failed scope test.
        #expect(decision.trace.verdict(of: .permission) == nil)
    }

    @Test func extraImplicationCounts() {
        let decision = decide(.authorizationCode, scopes: ["write:jira-work"], "GET", "/rest/api/3/project/PROJ")
        #expect(decision.isAllowed)
    }

    @Test("implied scopes formed beforehand are the ones the scope check uses, and the trace shows")
    func impliedScopesFormedBeforehand() {
        var request = DecisionRequest(
            credential: .connectJWT, appKey: "com.example.reports", user: Self.appUser, heldScopes: ["WRITE"],
            method: "GET", target: "/rest/api/3/project/PROJ")
        request.impliedScopes = Self.policy.implication.closure(of: request.heldScopes)
        let formed = Scopes.decide(request, policy: Self.policy)
        #expect(formed.isAllowed && formed.trace.scopesHeld == ["WRITE", "READ", "NONE"])
        let plain = decide(.connectJWT, user: Self.appUser, scopes: ["WRITE"], "GET", "/rest/api/3/project/PROJ")
        #expect(formed.trace.verdicts == plain.trace.verdicts)
        request.impliedScopes = ["NONE"]
        #expect(Scopes.decide(request, policy: Self.policy).denial?.status == 403)
    }

    @Test("a request made by a principal formed beforehand decides as one made from the same facts")
    func principalFormedBeforehand() {
        let implied = Self.policy.implication.closure(of: ["WRITE"])
        let principal = Principal(
            credential: .connectJWT, appKey: "com.example.reports", user: Self.appUser, heldScopes: ["WRITE"],
            impliedScopes: implied)
        let formed = DecisionRequest(
            principal: principal, method: "GET", rawPath: "/rest/api/3/project/PROJ", rawQuery: nil)
        let plain = DecisionRequest(
            credential: .connectJWT, appKey: "com.example.reports", user: Self.appUser, heldScopes: ["WRITE"],
            method: "GET", rawPath: "/rest/api/3/project/PROJ", impliedScopes: implied)
        #expect(formed == plain && formed.hashValue == plain.hashValue)
        let fromTarget = DecisionRequest(principal: principal, method: "GET", target: "/rest/api/3/project/PROJ?x=1")
        #expect(fromTarget.principal === principal && fromTarget.rawPath == "/rest/api/3/project/PROJ")
        #expect(fromTarget.rawQuery == "x=1")
        #expect(
            Scopes.decide(formed, policy: Self.policy).trace.verdicts
                == Scopes.decide(plain, policy: Self.policy).trace.verdicts)
        // Setting the implied scopes forms another principal; the one shared is unchanged.
        var changed = formed
        changed.impliedScopes = ["NONE"]
        #expect(changed != formed && principal.impliedScopes == implied)
        #expect(
            changed.appKey == "com.example.reports" && changed.user == Self.appUser && changed.heldScopes == ["WRITE"])
        #expect(Scopes.decide(changed, policy: Self.policy).denial?.status == 403)
        #expect(Principal.anonymous.user == nil && Principal.anonymous.credential == .anonymous)
    }

    @Test func connectScopesAreCaseInsensitiveInRequests() {
        #expect(decide(.connectJWT, scopes: ScopeSet(parsing: "write"), "GET", "/rest/api/3/myself").isAllowed)
    }

    @Test(arguments: [CredentialKind.basic, .oauth1ThreeLegged, .oauth1TwoLegged, .oauth1TwoLeggedImpersonation])
    func scopeTestIsSkippedForCredentialsWithoutScopes(credential: CredentialKind) {
        let decision = decide(credential, "GET", "/rest/api/3/project/PROJ")
        #expect(decision.isAllowed)
        #expect(decision.trace.verdict(of: .scope)?.outcome == .skipped(.credentialWithoutScopes(credential)))
        #expect(decision.trace.scopesHeld == nil)
        #expect(decision.explanation.contains("carry no scopes"))
    }

    @Test func missingPermissionIs403NamingPermissionAndResource() {
        let decision = decide(.basic, "PUT", "/rest/api/3/issue/X-1?projectKey=OTHER")
        #expect(
            decision.denial
                == .insufficientPermission(permission: "EDIT_ISSUES", resource: .item(type: "project", id: "OTHER")))
        #expect(decision.denial?.status == 403)
        #expect(decision.denial?.error == "insufficient_permission")
        #expect(decision.denial?.message == "needs permission EDIT_ISSUES on project:OTHER")
        #expect(decide(.basic, "PUT", "/rest/api/3/issue/X-1?projectKey=PROJ").isAllowed)
    }

    @Test func missingQueryParameterDeniesWithAClearReason() {
        let decision = decide(.basic, "PUT", "/rest/api/3/issue/X-1")
        guard case .resourceUndetermined(let permission, let template, let reason)? = decision.denial else {
            Issue.record("expected resourceUndetermined, got \(decision)")
            return
        }
        #expect(permission == "EDIT_ISSUES")
        #expect(template == "project:{query.projectKey}")
        #expect(reason.contains("missing"))
        #expect(decision.denial?.status == 403)
        #expect(decision.denial?.error == "insufficient_permission")
        #expect(decision.denial?.code == "resource_undetermined")
    }

    @Test func pathParameterIsDecodedForTheResource() {
        let decision = decide(.basic, user: Self.appUser, "GET", "/rest/api/3/project/PR%4FJ")
        #expect(decision.isAllowed)
        #expect(decision.trace.resource == .resolved(.item(type: "project", id: "PROJ")))
    }

    @Test func globalPermission() {
        let admin = ActingUser(accountId: "root", groups: ["jira-admins"])
        #expect(decide(.connectJWT, user: admin, scopes: ["ADMIN"], "POST", "/rest/api/3/admin").isAllowed)
        #expect(
            decide(.connectJWT, user: Self.alice, scopes: ["ADMIN"], "POST", "/rest/api/3/admin").denial?.status == 403)
    }

    @Test func scopeOnlyRouteSkipsThePermissionTest() {
        let decision = decide(.connectJWT, scopes: ["READ"], "GET", "/rest/api/3/myself")
        #expect(decision.isAllowed)
        #expect(decision.trace.verdict(of: .permission)?.outcome == .skipped(.noPermissionRequired))
    }

    @Test func explanationShowsEveryStep() {
        let text = decide(.connectJWT, user: Self.appUser, scopes: ["WRITE"], "GET", "/rest/api/3/project/PROJ?x=1")
            .explanation
        for expected in [
            "GET /rest/api/3/project/PROJ?x=1", "jwt, app com.example.reports, user app-reports",
            "#0 GET,HEAD /rest/api/3/project/{projectKey} → jira", "projectKey = PROJ",
            "required any of: READ | read:jira-work", "held after implication: NONE READ WRITE",
            "BROWSE_PROJECTS on project:PROJ", "#2 BROWSE_PROJECTS on project:PROJ to user app-reports",
            "ALLOW",
        ] {
            #expect(text.contains(expected), "missing '\(expected)' in\n\(text)")
        }
        let denied = decide(.connectJWT, scopes: ["NONE"], "GET", "/rest/api/3/project/PROJ").explanation
        #expect(denied.hasSuffix("DENY insufficient_scope (403): needs one of the scopes: READ, read:jira-work"))
    }

    @Test func credentialKindsNameTheAuthHeader() {
        #expect(
            CredentialKind.allCases.map(\.rawValue) == [
                "jwt", "jwt-bearer", "authorization-code", "basic", "oauth1-3lo", "oauth1-2lo", "oauth1-2loi",
                "anonymous",
            ])
        #expect(CredentialKind.jwtBearer.isBearerToken && !CredentialKind.connectJWT.isBearerToken)
    }
}
