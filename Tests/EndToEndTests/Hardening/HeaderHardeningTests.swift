import Foundation
import Testing

/// Headers a client must not choose reach the upstream only as the gateway
/// writes them (docs/gateway.md §5).
@Suite("Hardening: framing spelled with underscores, request-rewriting headers, Forwarded")
struct HeaderHardeningTests {
    static let spoofed: [(String, String)] = [
        ("Content_Length", "5"), ("Transfer_Encoding", "chunked"), ("X_Forwarded_For", "10.9.9.9"),
        ("X-HTTP-Method-Override", "DELETE"), ("X-Method-Override", "DELETE"), ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"), ("X-Real-IP", "10.0.0.1"), ("Client-IP", "10.0.0.2"),
        ("X-Remote-User", "admin"), ("X-Forwarded-User", "admin"), ("Forwarded", "for=10.0.0.3;proto=https"),
    ]

    @Test("framing and rewriting headers are dropped; Forwarded keeps the client's elements and gains the gateway's")
    func dropped() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ", headers: Self.spoofed)
        #expect(reply.status == 200)
        let received = reply.forwardedHeaders
        for name in [
            "content_length", "transfer_encoding", "x_forwarded_for", "x-http-method-override", "x-method-override",
            "x-original-url", "x-rewrite-url", "x-real-ip", "client-ip", "x-remote-user", "x-forwarded-user",
        ] {
            #expect(received[name] == nil, "\(name): \(received[name] ?? [])")
        }
        #expect(received["x-forwarded-for"] == ["127.0.0.1"], "the underscore spelling is not appended")
        #expect(
            received["forwarded"] == [
                "for=10.0.0.3;proto=https, for=127.0.0.1;host=\"127.0.0.1:\(gateway.port)\";proto=http"
            ])
    }

    @Test("gateway.json's forwardClientHeaders lets the named ones through, and only them")
    func passedWhenAsked() async throws {
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["forwardClientHeaders"] = ["X-Real-IP"]
            }
        }
        let reply = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ", headers: Self.spoofed)
        #expect(reply.forwardedHeaders["x-real-ip"] == ["10.0.0.1"])
        #expect(reply.forwardedHeaders["x-original-url"] == nil)
        let check = try await LinkgateProcess.runAsync(["check", "--policies", gateway.folder.path])
        #expect(check.status == 0)
    }

    @Test("forwardClientHeaders may not name a credential or framing header: check says where")
    func refusedNames() async throws {
        let gateway = try await GatewayFixture()
        try GatewayFixture.editJSON(gateway.folder.appendingPathComponent("gateway.json")) {
            $0["forwardClientHeaders"] = ["Authorization"]
        }
        let check = try await LinkgateProcess.runAsync(["check", "--policies", gateway.folder.path])
        #expect(check.status == 1)
        #expect(
            check.standardOutput.contains("gateway.json: /forwardClientHeaders/0: Authorization is not a header"),
            "\(check.standardOutput)")
    }

    @Test("an upstream's Set-Cookie for the gateway's own cookies is dropped; its other cookies pass")
    func gatewayCookiesFromUpstream() async throws {
        let gateway = try await GatewayFixture()
        let reply = try await gateway.sendSigned(
            .GET, "/rest/api/3/project/PROJ",
            headers: [
                ("X-Echo-Set-Cookie", "lg_session=fixed-by-backend; Path=/"), ("X-Echo-Set-Cookie", "lg_csrf=x"),
                ("X-Echo-Set-Cookie", "app_pref=dark; Path=/"),
            ])
        #expect(reply.status == 200)
        #expect(reply.headers["Set-Cookie"] == ["app_pref=dark; Path=/"])
    }
}
