import Foundation
import Testing

/// API tokens over HTTP Basic, created with `linkgate api-token`.
@Suite("API tokens over HTTP Basic")
struct BasicAuthTests {
    static let target = "/rest/api/3/project/PROJ"

    func apiToken(
        _ fixture: GatewayFixture, user: String = ExampleSite.alice, label: String = "ci"
    ) async throws -> String {
        let result = try await LinkgateProcess.runAsync([
            "api-token", "create", "--policies", fixture.folder.path, "--user", user, "--label", label,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let token = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("lgat_") && token.count > 40)
        return token
    }

    static func basic(_ login: String, _ token: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(login):\(token)".utf8).base64EncodedString())
    }

    @Test(
        "email and name forms act as the user, no scope test; wrong and revoked tokens are 401 with a Basic challenge")
    func basic() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await apiToken(fixture)
        for login in ["alice@example.com", "alice", "ALICE@example.com"] {
            let reply = try await fixture.send(.GET, Self.target, headers: [Self.basic(login, token)])
            #expect(reply.status == 200, "\(login): \(reply.body)")
            #expect(reply.forwardedHeaders["x-linkgate-auth"] == ["basic"])
            #expect(reply.forwardedHeaders["x-linkgate-account-id"] == [ExampleSite.alice])
            #expect(reply.forwardedHeaders["x-linkgate-app"] == nil)
        }
        // The user's permissions apply: bob's token cannot browse SECRET.
        let bob = try await apiToken(fixture, user: GatewayFixture.bob)
        #expect(
            try await fixture.send(.GET, "/rest/api/3/project/SECRET", headers: [Self.basic("bob", bob)]).status == 403)
        // Alice's token with bob's name is refused.
        let swapped = try await fixture.send(.GET, Self.target, headers: [Self.basic("bob", token)])
        #expect(swapped.status == 401 && swapped.headers["WWW-Authenticate"].first == "Basic realm=\"linkgate\"")
        let wrong = try await fixture.send(.GET, Self.target, headers: [Self.basic("alice", "lgat_wrong")])
        #expect(wrong.status == 401 && wrong.json["error"] as? String == "invalid_token")
        #expect(!wrong.body.contains("lgat_"))

        let listed = try await LinkgateProcess.runAsync([
            "api-token", "list", "--policies", fixture.folder.path, "--user", ExampleSite.alice,
        ])
        let id = try #require(
            listed.standardOutput.split(separator: " ").first.map(String.init), "\(listed.standardOutput)")
        #expect(listed.standardOutput.contains("active") && listed.standardOutput.contains(" ci"))
        #expect(!listed.standardOutput.contains(token))
        let revoked = try await LinkgateProcess.runAsync(["api-token", "revoke", "--policies", fixture.folder.path, id])
        #expect(revoked.status == 0, "\(revoked.standardError)")
        // The gateway answers a used token from memory until its revocation poll (docs/links.md): within 2 s.
        let refused = try await fixture.eventually(within: 2) {
            try await fixture.send(.GET, Self.target, headers: [Self.basic("alice", token)]).status == 401
        }
        #expect(refused)
        #expect(
            try await LinkgateProcess.runAsync(["api-token", "revoke", "--policies", fixture.folder.path, id]).status
                == 1)
    }

    @Test("repeated failures are slowed down with 429 and Retry-After")
    func throttled() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await apiToken(fixture, user: GatewayFixture.bob)
        for attempt in 1...5 {
            let reply = try await fixture.send(.GET, Self.target, headers: [Self.basic("bob", "lgat_guess\(attempt)")])
            #expect(reply.status == 401)
        }
        let locked = try await fixture.send(.GET, Self.target, headers: [Self.basic("bob", token)])
        #expect(locked.status == 429, "\(locked.body)")
        #expect(Int(locked.headers["Retry-After"].first ?? "") ?? 0 >= 1)
        #expect(try await fixture.upstreamCount() == 0)
    }

    @Test("basicAuth: false turns Basic off")
    func disabled() async throws {
        let fixture = try await GatewayFixture(.sqlite) { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) { $0["basicAuth"] = false }
        }
        let token = try await apiToken(fixture)
        let reply = try await fixture.send(.GET, Self.target, headers: [Self.basic("alice", token)])
        #expect(reply.status == 401)
        #expect((reply.json["error_description"] as? String)?.contains("turned off") == true)
        #expect(reply.headers["WWW-Authenticate"].first == "Basic realm=\"linkgate\"")
    }
}
