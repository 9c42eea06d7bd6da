import Foundation
import JWT
import Testing

/// The example site shipped in policies/.
enum ExampleSite {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies").path
    static let alice = "5b10ac8d82e05b22cc7d4ef5"
    static let bob = "5b10a2844c20165700ede21g"
    static let carol = "5b109f2e9729b51b54dc274d"

    static func sharedSecret(ofAppFile name: String) throws -> [UInt8] {
        let app = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/apps/\(name)"))))
        return Array(try #require(app["sharedSecret"]?.stringValue).utf8)
    }

    /// A copy of the example site, changed by `edit`, in a temporary folder.
    static func brokenCopy(_ edit: (URL) throws -> Void) throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-policies-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: folder, toPath: copy.path)
        try? FileManager.default.removeItem(at: copy.appendingPathComponent("var"))  // `make run`'s store
        try edit(copy)
        return copy
    }
}

@Suite("check, explain and token, through the real binary")
struct PolicyCommandTests {
    @Test("check passes on the example site with a one-line summary")
    func checkExampleSite() async throws {
        let result = try await LinkgateProcess.runAsync(["check", "--policies", ExampleSite.folder])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasSuffix("OK: 3 apps, 38 routes, 1 upstream, 6 users, 21 grants\n"))
    }

    @Test("check reads LINKGATE_POLICIES when --policies is absent, and exits 2 when neither is set")
    func checkEnvironment() async throws {
        let withEnv = try await LinkgateProcess.runAsync(
            ["check"], environment: ["LINKGATE_POLICIES": ExampleSite.folder])
        #expect(withEnv.status == 0)
        let without = try await LinkgateProcess.runAsync(["check"], environment: ["LINKGATE_POLICIES": ""])
        #expect(without.status == 2)
        #expect(without.standardError.contains("--policies"))
    }

    @Test("check lists every problem as FILE: /pointer: message and exits 1")
    func checkBroken() async throws {
        let copy = try ExampleSite.brokenCopy { folder in
            let routesURL = folder.appendingPathComponent("routes.json")
            var routes = try String(contentsOf: routesURL, encoding: .utf8)
            routes = routes.replacingOccurrences(
                of: #""path": "/rest/api/3/field""#, with: #""path": "/rest/api/3/search""#)
            try routes.write(to: routesURL, atomically: true, encoding: .utf8)
            let appURL = folder.appendingPathComponent("apps/reports.json")
            let app = try String(contentsOf: appURL, encoding: .utf8).replacingOccurrences(
                of: #""READ""#, with: #""REED""#)
            try app.write(to: appURL, atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(at: copy) }
        let result = try await LinkgateProcess.runAsync(["check", "--policies", copy.path])
        #expect(result.status == 1)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("apps/reports.json: /scopes/0: ") && $0.contains("REED") })
        #expect(lines.contains { $0.hasPrefix("routes.json: /routes/15: ") && $0.contains("match the same requests") })
        #expect(result.standardError.contains("2 problems"))
    }

    @Test("explain: ALLOW through a user grant, with the trace, exit 0")
    func explainAllow() async throws {
        let result = try await LinkgateProcess.runAsync([
            "explain", "--policies", ExampleSite.folder, "--app", "com.example.reports",
            "--method", "GET", "--path", "/rest/api/3/project/PROJ",
        ])
        #expect(result.status == 0)
        let output = result.standardOutput
        #expect(output.contains("route        #9 GET,HEAD /rest/api/3/project/{projectIdOrKey}"))
        #expect(output.contains("held after implication: NONE READ"))
        #expect(output.contains("permission   BROWSE_PROJECTS on project:PROJ"))
        #expect(output.contains("granted by   #17 BROWSE_PROJECTS on project:PROJ to user app-reports"))
        #expect(output.hasSuffix("verdict      ALLOW\n"))
    }

    @Test(
        "explain: each kind of DENY with its status, exit 3",
        arguments: [
            (
                ["--app", "com.example.reports", "--method", "GET", "--path", "/rest/api/3/project/SECRET"],
                "DENY insufficient_permission (403)"
            ),
            (
                [
                    "--app", "com.example.reports", "--method", "PUT", "--path",
                    "/rest/api/3/issue/PROJ-1?projectKey=PROJ",
                ],
                "DENY insufficient_scope (403)"
            ),
            (["--app", "com.example.reports", "--method", "GET", "--path", "/nowhere"], "DENY not_found (404)"),
            (
                [
                    "--user", ExampleSite.bob, "--auth", "basic", "--method", "GET", "--path",
                    "/rest/api/3/auditing/record",
                ],
                "DENY insufficient_permission (403)"
            ),
            (
                ["--user", ExampleSite.carol, "--auth", "basic", "--method", "GET", "--path", "/rest/api/3/myself"],
                "DENY invalid_token (401)"
            ),
            (
                [
                    "--app", "com.example.automation", "--auth", "jwt-bearer", "--user", ExampleSite.bob, "--scopes",
                    "READ",
                    "--method", "PUT", "--path", "/rest/api/3/issue/PROJ-1?projectKey=PROJ",
                ], "DENY insufficient_scope (403)"
            ),
        ])
    func explainDeny(_ arguments: [String], _ verdict: String) async throws {
        let result = try await LinkgateProcess.runAsync(["explain", "--policies", ExampleSite.folder] + arguments)
        #expect(result.status == 3)
        #expect(result.standardOutput.contains("verdict      \(verdict)"), "\(result.standardOutput)")
    }

    @Test(
        "explain: Basic and bearer credentials act as their user",
        arguments: [
            [
                "--user", ExampleSite.alice, "--auth", "basic", "--method", "GET", "--path",
                "/rest/api/3/auditing/record",
            ],
            [
                "--app", "com.example.automation", "--auth", "jwt-bearer", "--user", ExampleSite.bob,
                "--method", "PUT", "--path", "/rest/api/3/issue/PROJ-1?projectKey=PROJ",
            ],
            [
                "--app", "com.example.automation", "--auth", "authorization-code", "--user", ExampleSite.bob,
                "--method", "GET", "--path", "/rest/api/3/issue/PROJ-1?projectKey=PROJ",
            ],
            ["--app", "com.example.wiki", "--auth", "oauth1", "--method", "GET", "--path", "/rest/api/3/project/PROJ"],
        ])
    func explainUsers(_ arguments: [String]) async throws {
        let result = try await LinkgateProcess.runAsync(["explain", "--policies", ExampleSite.folder] + arguments)
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    }

    @Test(
        "explain: contradictory or missing options exit 2",
        arguments: [
            ["--method", "GET", "--path", "/x"],
            ["--app", "com.example.reports", "--auth", "basic", "--method", "GET", "--path", "/x"],
            ["--app", "com.example.automation", "--auth", "jwt-bearer", "--method", "GET", "--path", "/x"],
            ["--app", "com.example.reports", "--auth", "saml", "--method", "GET", "--path", "/x"],
            ["--app", "com.example.reports", "--method", "GET", "--path", "x"],
        ])
    func explainUsage(_ arguments: [String]) async throws {
        let result = try await LinkgateProcess.runAsync(["explain", "--policies", ExampleSite.folder] + arguments)
        #expect(result.status == 2)
    }

    @Test("token connect makes a Connect JWT that verifies for exactly that request")
    func tokenConnect() async throws {
        let result = try await LinkgateProcess.runAsync([
            "token", "connect", "--policies", ExampleSite.folder,
            "--app", "com.example.reports", "--method", "get",
            "--url", "/rest/api/3/search?jql=project%20%3D%20PROJ&maxResults=5",
        ])
        #expect(result.status == 0)
        let token = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try JWTKey.secret(try ExampleSite.sharedSecret(ofAppFile: "reports.json"))
        let verifier = ConnectJWTVerifier(lookup: { $0 == "com.example.reports" ? key : nil })
        let claims = try verifier.verify(
            token, method: "GET", rawPath: "/rest/api/3/search",
            rawQuery: "maxResults=5&jql=project+%3D+PROJ")
        #expect(claims.issuer == "com.example.reports")
        #expect(try claims.claims.expiresAt()! - claims.claims.issuedAt()! == 180)
        #expect(throws: JWTError(.qshMismatch)) {
            try verifier.verify(
                token, method: "GET", rawPath: "/rest/api/3/search", rawQuery: "maxResults=6&jql=project+%3D+PROJ")
        }
    }

    @Test("token assertion makes a 2LOi assertion per docs/protocols.md §3")
    func tokenAssertion() async throws {
        let result = try await LinkgateProcess.runAsync([
            "token", "assertion", "--policies", ExampleSite.folder,
            "--app", "com.example.automation", "--user", ExampleSite.alice,
        ])
        #expect(result.status == 0)
        let token = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try JWTKey.secret(try ExampleSite.sharedSecret(ofAppFile: "automation.json"))
        var rules = ClaimRules()
        rules.issuers = ["urn:atlassian:connect:clientid:automation-2loi-client"]
        rules.subject = "urn:atlassian:connect:useraccountid:\(ExampleSite.alice)"
        rules.audiences = ["http://127.0.0.1:8080/oauth2/token"]
        rules.maxLifetime = 60
        rules.requireIssuedAt = true
        let verified = try JWTVerifier(key: key, rules: rules).verify(token)
        #expect(verified.claims["tnt"] == "http://127.0.0.1:8080")
        #expect(try verified.claims.tokenID()?.count ?? 0 >= 22)
    }

    @Test(
        "token commands refuse what the gateway would refuse, exit 2",
        arguments: [
            ["token", "connect", "--app", "com.example.reports", "--method", "GET", "--url", "/x", "--ttl", "3601"],
            ["token", "connect", "--app", "com.example.nope", "--method", "GET", "--url", "/x"],
            ["token", "connect", "--app", "com.example.wiki", "--method", "GET", "--url", "/x"],
            ["token", "assertion", "--app", "com.example.automation", "--user", "nobody"],
            ["token", "assertion", "--app", "com.example.automation", "--user", ExampleSite.alice, "--ttl", "61"],
            ["token", "assertion", "--app", "com.example.wiki", "--user", ExampleSite.alice],
        ])
    func tokenRefusals(_ arguments: [String]) async throws {
        let result = try await LinkgateProcess.runAsync(arguments + ["--policies", ExampleSite.folder])
        #expect(result.status == 2, "\(result.standardError)")
    }
}
