import Foundation
import JWT
import Testing

@Suite("Discovery documents and the audit log")
struct DiscoveryAndAuditEndToEndTests {
    @Test("RFC 8414 metadata and the JWKS that verifies issued tokens")
    func discovery() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let metadata = try await fixture.send(.GET, "/.well-known/oauth-authorization-server")
        #expect(metadata.status == 200)
        #expect(metadata.json["issuer"] as? String == GatewayFixture.site)
        #expect(metadata.json["token_endpoint"] as? String == GatewayFixture.site + "/oauth2/token")
        #expect(metadata.json["jwks_uri"] as? String == GatewayFixture.site + "/.well-known/jwks.json")
        #expect(metadata.json["revocation_endpoint"] as? String == GatewayFixture.site + "/oauth2/revoke")
        #expect(metadata.json["introspection_endpoint"] as? String == GatewayFixture.site + "/oauth2/introspect")
        #expect((metadata.json["grant_types_supported"] as? [String])?.contains(GatewayFixture.jwtBearer) == true)

        let jwks = try await fixture.send(.GET, "/.well-known/jwks.json")
        #expect(jwks.status == 200)
        #expect(!jwks.body.contains("\"d\""), "the JWKS must hold public keys only")
        let set = try JWKSet(try JSONValue.parse(Array(jwks.body.utf8)))
        let token = try await fixture.accessToken()
        var rules = ClaimRules()
        rules.issuers = [GatewayFixture.site]
        rules.audiences = [GatewayFixture.site]
        let verified = try JWTVerifier(keys: set.keys, rules: rules).verify(token)
        #expect(try verified.claims.subject() == ExampleSite.alice)
        #expect(try await fixture.send(.POST, "/.well-known/jwks.json").status == 405)

        // The key is kept in the store: the same after a restart, and old tokens still verify.
        try await fixture.restartGateway(signal: SIGTERM)
        #expect(try await fixture.send(.GET, "/.well-known/jwks.json").body == jwks.body)
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token).status == 200)
    }

    @Test("by default an allowed proxied request is in the access log only; refusals and grants are audited")
    func auditDefault() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token).status == 200)
        #expect(try await fixture.sendSigned(.GET, "/rest/api/3/application-properties").status == 403)
        let arguments = ["audit", "--policies", fixture.folder.path, "--since", "5m"]
        var lines: [Substring] = []
        let complete = try await fixture.eventually(within: 3) {
            lines = try await LinkgateProcess.runAsync(arguments).standardOutput.split(separator: "\n")
            return lines.contains { $0.contains("insufficient_scope") }
                && lines.contains { $0.contains("token_issued") }
        }
        #expect(complete, "\(lines)")
        #expect(!lines.contains { $0.contains("GET /rest/api/3/project/{projectIdOrKey}") }, "\(lines)")
        #expect(
            try await fixture.eventually(within: 3) {
                fixture.gateway.text.contains("route=/rest/api/3/project/{projectIdOrKey} status=200")
            })
    }

    @Test("with auditAllowedRequests, every decision is in the audit table and the log, never a token")
    func audit() async throws {
        let fixture = try await GatewayFixture(.sqlite) { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["auditAllowedRequests"] = true
            }
        }
        let token = try await fixture.accessToken()
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/PROJ", token: token).status == 200)
        #expect(try await fixture.sendBearer(.GET, "/rest/api/3/project/SECRET", token: token + "x").status == 401)
        #expect(try await fixture.sendSigned(.GET, "/rest/api/3/application-properties").status == 403)
        let arguments = ["audit", "--policies", fixture.folder.path, "--since", "5m"]
        var lines: [Substring] = []
        let complete = try await fixture.eventually(within: 3) {
            lines = try await LinkgateProcess.runAsync(arguments).standardOutput.split(separator: "\n")
            return lines.count >= 4
        }
        #expect(complete, "\(lines)")
        #expect(
            lines.contains {
                $0.contains(
                    "ALLOW 200 jwt-bearer-assertion app=com.example.automation user=\(ExampleSite.alice) POST /oauth2/token token_issued"
                )
            }, "\(lines)")
        #expect(
            lines.contains {
                $0.contains(
                    "ALLOW 200 jwt-bearer app=com.example.automation user=\(ExampleSite.alice) GET /rest/api/3/project/{projectIdOrKey} allowed"
                )
            }, "\(lines)")
        #expect(lines.contains { $0.contains("DENY 401 bearer app=- user=- GET - ") }, "\(lines)")
        #expect(
            lines.contains {
                $0.contains(
                    "DENY 403 jwt app=com.example.reports user=app-reports GET /rest/api/3/application-properties insufficient_scope"
                )
            }, "\(lines)")
        let byApp = try await LinkgateProcess.runAsync(arguments + ["--app", GatewayFixture.reportsKey, "--json"])
        let entries = byApp.standardOutput.split(separator: "\n")
        #expect(entries.count == 1, "\(entries)")
        let entry = try JSONSerialization.jsonObject(with: Data(entries[0].utf8)) as? [String: Any]
        #expect(entry?["verdict"] as? String == "deny" && entry?["status"] as? Int == 403)
        #expect(!fixture.gateway.text.contains(token), "the log holds a token")
        // The SQLite store lives in the policy folder; its writes are not policy changes.
        #expect(!fixture.gateway.text.contains("policy reloaded"), "\(fixture.gateway.text.suffix(2000))")
        #expect(fixture.gateway.text.contains("verdict=allow") || fixture.gateway.text.contains("\"verdict\""))
        #expect(try await LinkgateProcess.runAsync(arguments.dropLast(2) + ["--since", "yesterday"]).status == 2)
    }
}
