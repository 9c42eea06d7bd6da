import Benchmark
import Scopes

// One gateway decision (route match, credential, scopes, permission) against
// synthetic policies of 100, 1,000 and 10,000 routes with as many grants. The
// route trie and the permission index are meant to make the cost flat in the
// table size; scripts/bench-report.py prints ns per decision and the growth.

let benchmarks: @Sendable () -> Void = {
    // 1,000 decisions per measured iteration: one decision is a couple of
    // microseconds, too short to time alone. bench-report.py divides by this.
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 5_000
    )

    for size in SyntheticPolicy.sizes {
        let policy = SyntheticPolicy.policy(routes: size)
        for (label, request) in SyntheticPolicy.requests {
            precondition(decide(request, policy: policy).isAllowed, "the \(label) request must be allowed")
            Benchmark("Decision, \(label), \(size) routes") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(decide(request, policy: policy))
                }
            }
        }
    }
}

/// Deterministic policies shaped like a Jira-style API: `/rest/api/N/resourceK`
/// collections, `{id}` items with several methods, nested `sub…/{subId}`
/// resources, an agile family, and the two project routes the requests hit.
enum SyntheticPolicy {
    static let sizes = [100, 1_000, 10_000]

    static let user = ActingUser(
        accountId: "5b10ac8d82e05b22cc7d4ef5", groups: ["jira-software-users", "group-3", "group-12"])

    /// An app with READ, as a Connect JWT: one request per kind of resource template.
    static let requests: [(label: String, request: DecisionRequest)] = [
        (
            "path parameter",
            DecisionRequest(
                credential: .connectJWT, appKey: "com.example.bench", user: user, heldScopes: ["READ"],
                method: "GET", target: "/rest/api/3/project/PROJ")
        ),
        (
            "query parameter",
            DecisionRequest(
                credential: .connectJWT, appKey: "com.example.bench", user: user, heldScopes: ["READ"],
                method: "GET", target: "/rest/api/3/search?jql=order%20by%20created&projectKey=PROJ&maxResults=50")
        ),
    ]

    static func policy(routes count: Int) -> DecisionPolicy {
        DecisionPolicy(
            implication: try! ScopeImplication(implies: ["write:jira-work": ["read:jira-work"]]),
            permissions: PermissionTable(grants(count: count)),
            routes: try! RouteTable(routes(count: count)))
    }

    static func routes(count: Int) -> [RouteRule] {
        var rules = [
            try! RouteRule(
                index: 0, methods: ["GET", "HEAD"], path: "/rest/api/3/project/{projectKey}", upstream: "jira",
                scopes: ["READ", "read:jira-work"], permission: "BROWSE_PROJECTS", resource: "project:{projectKey}"),
            try! RouteRule(
                index: 1, methods: ["PUT", "DELETE"], path: "/rest/api/3/project/{projectKey}", upstream: "jira",
                scopes: ["PROJECT_ADMIN", "manage:jira-project"], permission: "ADMINISTER_PROJECTS",
                resource: "project:{projectKey}"),
            try! RouteRule(
                index: 2, methods: ["GET"], path: "/rest/api/3/project/search", upstream: "jira", scopes: ["READ"]),
            try! RouteRule(
                index: 3, methods: ["GET", "POST"], path: "/rest/api/3/search", upstream: "jira",
                scopes: ["READ", "read:jira-work"], permission: "BROWSE_PROJECTS",
                resource: "project:{query.projectKey}"),
        ]
        var k = 0
        while rules.count < count {
            rules.append(synthetic(k, index: rules.count))
            k += 1
        }
        return rules
    }

    /// The k-th synthetic rule; four rules per resource, so no two tie.
    private static func synthetic(_ k: Int, index: Int) -> RouteRule {
        let r = k / 4
        let prefix = r % 5 == 0 ? "/rest/agile/1.0" : "/rest/api/\(2 + r % 2)"
        let base = "\(prefix)/resource\(r)"
        let (methods, path, scopes, permission): ([String], String, [Scope], String?)
        switch k % 4 {
        case 0: (methods, path, scopes, permission) = (["GET", "HEAD"], base, ["READ", "read:jira-work"], nil)
        case 1:
            (methods, path, scopes, permission) = (
                ["GET"], "\(base)/{id}", ["READ", "read:jira-work"], "BROWSE_PROJECTS"
            )
        case 2:
            (methods, path, scopes, permission) = (
                ["PUT", "DELETE"], "\(base)/{id}", ["WRITE", "write:jira-work"], "EDIT_ISSUES"
            )
        default:
            (methods, path, scopes, permission) = (
                ["GET", "POST"], "\(base)/{id}/sub\(r % 7)/{subId}", ["READ", "read:jira-work"], "BROWSE_PROJECTS"
            )
        }
        return try! RouteRule(
            index: index, methods: methods, path: path, upstream: r % 3 == 0 ? "confluence" : "jira", scopes: scopes,
            permission: permission, resource: permission.map { _ in "resource\(r):{id}" })
    }

    static func grants(count: Int) -> [PermissionGrant] {
        let permissions = ["BROWSE_PROJECTS", "EDIT_ISSUES", "CREATE_ISSUES", "ADMINISTER_PROJECTS", "ASSIGN_ISSUES"]
        var grants = [
            PermissionGrant(
                permission: "BROWSE_PROJECTS", resource: .everyItem(type: "project"),
                grantee: .group("jira-software-users"))
        ]
        var k = 0
        while grants.count < count {
            let resource: Resource =
                switch k % 3 {
                case 0: k % 50 == 6 ? .item(type: "project", id: "PROJ") : .item(type: "project", id: "KEY\(k)")
                case 1: .item(type: "resource\(k % max(1, count / 4))", id: "\(k)")
                default: k % 10 == 2 ? .everyItem(type: "resource\(k % 97)") : .global
                }
            let grantee: Grantee =
                switch k % 4 {
                case 0, 3: .user("user-\(k % 211)")
                default: .group("group-\(k % 37)")
                }
            grants.append(
                PermissionGrant(permission: permissions[k % permissions.count], resource: resource, grantee: grantee))
            k += 1
        }
        return grants
    }
}
