import Foundation
import Testing

/// Findings 1 and 2 of the hardening issue, on both data paths (docs/gateway.md
/// §3): the bytes decided are the bytes forwarded. A target with `#` is a 400; a
/// path or query with characters other stacks re-encode (`|`, `"`, `{`, `^`,
/// `` ` ``, `[`, `]`) or with a percent-encoded byte that is not UTF-8 reaches the
/// upstream exactly as sent. The fast path answers an anonymous request; a Basic
/// one goes through the router's proxy and the same upstream pools.
@Suite("Hardening: the bytes decided are the bytes forwarded, on both paths")
struct ExactBytesTests {
    static let odd = "/static/a%ffb%c0%ae|c\"d{e}^f`g[h]?q=%ff|x\"y{z}^w`v[u]&jwt2=1"

    func apiToken(_ fixture: GatewayFixture) async throws -> String {
        let result = try await LinkgateProcess.runAsync([
            "api-token", "create", "--policies", fixture.folder.path, "--user", ExampleSite.alice, "--label", "bytes",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One GET on a fresh raw connection, `Connection: close`.
    static func get(_ port: Int, _ target: String, headers: String = "") throws -> RawConnection.Response {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        try connection.write("GET \(target) HTTP/1.1\r\nHost: gateway\r\n\(headers)Connection: close\r\n\r\n")
        return try connection.readResponse()
    }

    @Test("odd characters and non-UTF-8 escapes reach the upstream byte for byte; # is a 400 that reaches nobody")
    func exactBytes() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await apiToken(fixture)
        let basic = "Authorization: Basic " + Data("alice:\(token)".utf8).base64EncodedString() + "\r\n"
        for (path, headers) in [("fast", ""), ("router", basic)] {
            let reply = try Self.get(fixture.port, Self.odd, headers: headers)
            #expect(reply.status == 200, "\(path): \(reply)")
            #expect(reply.json["target"] as? String == Self.odd, "\(path): \(reply.text)")
        }
        let before = try await fixture.upstreamCount()
        for (path, headers) in [("fast", ""), ("router", basic)] {
            for target in ["/static/a#b", "/static/a?q=1#frag", "/rest/api/3/project/PROJ#x"] {
                let reply = try Self.get(fixture.port, target, headers: headers)
                #expect(reply.status == 400, "\(path) \(target): \(reply)")
                #expect(reply.json["error"] as? String == "invalid_request", "\(path) \(target)")
            }
        }
        #expect(try await fixture.upstreamCount() == before, "a refused target reaches no upstream")
    }
}
