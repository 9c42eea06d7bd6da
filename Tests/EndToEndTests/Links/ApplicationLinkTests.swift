import Foundation
import Testing

/// OAuth 1.0a application links through the real gateway, driven by a real
/// third-party consumer: Python's requests-oauthlib signing RSA-SHA1.
@Suite("Application links: OAuth 1.0a with requests-oauthlib")
struct ApplicationLinkTests {
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop")
    static let privateKey = interop.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/keys/applink-demo-only.private.pem").path

    func run(
        _ fixture: GatewayFixture, steps: String, callback: String = "oob", requestor: String = "bob",
        pause: Double = 0
    ) async throws -> [String: Any] {
        let output = try await ClientScript.run(
            try #require(Self.python),
            [
                Self.interop.appendingPathComponent("oauth1_client.py").path, "--base-url",
                "http://127.0.0.1:\(fixture.port)",
                "--consumer-key", "wiki-applink", "--private-key", Self.privateKey, "--username", "alice",
                "--password", "alice-demo-password", "--callback", callback, "--requestor", requestor, "--steps", steps,
                "--api-path", "/rest/api/3/project/PROJ", "--pause-after-dance", String(pause),
            ])
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    /// The fixture's gateway with `baseUrl` naming its real listener: consumers sign that URL.
    static func fixture(edit: @escaping (URL) throws -> Void = { _ in }) async throws -> GatewayFixture {
        let port = try GatewayFixture.closedPort()
        return try await GatewayFixture(store: nil, listen: "127.0.0.1:\(port)") { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["baseUrl"] = "http://127.0.0.1:\(port)"
            }
            try edit(folder)
        }
    }

    static func step(_ result: [String: Any], _ name: String) -> [String: Any] { result[name] as? [String: Any] ?? [:] }

    @Test(
        "the 3-legged dance through the approval page, signed calls, 2LO, 2LOi, refusals and renewal",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"), arguments: ["oob", "callback"])
    func dance(callbackKind: String) async throws {
        let fixture = try await Self.fixture()
        let callback =
            callbackKind == "oob" ? "oob" : "http://127.0.0.1:9/plugins/servlet/applinks/oauth/login-dance/access?x=1"
        let result = try await run(
            fixture, steps: "dance,api,2lo,2loi,hmac,replay,stale,renew,deny", callback: callback)
        let dance = Self.step(result, "dance")
        #expect(dance["status"] as? Int == 200, "\(dance)")
        #expect(dance["authorize_redirect_to_login"] as? Bool == true)
        #expect((dance["request_token"] as? [String: Any])?["callback_confirmed"] as? String == "true")
        #expect(dance["verifier_from"] as? String == (callbackKind == "oob" ? "oob_page" : "callback"), "\(dance)")
        #expect(dance["oauth_expires_in"] as? Int == 604_800)
        #expect(dance["oauth_authorization_expires_in"] as? Int == 604_800 + 30 * 86_400)
        #expect(dance["has_oauth_session_handle"] as? Bool == true)
        #expect(Self.step(result, "api")["status"] as? Int == 200, "\(result)")
        #expect(Self.step(result, "2lo")["status"] as? Int == 200)
        #expect(Self.step(result, "2loi")["status"] as? Int == 200, "impersonation is allowed for this link")
        #expect(Self.step(result, "hmac")["oauth_problem"] as? String == "signature_method_rejected")
        #expect(Self.step(result, "hmac")["status"] as? Int == 400)
        #expect(Self.step(result, "replay")["first_status"] as? Int == 200)
        #expect(Self.step(result, "replay")["oauth_problem"] as? String == "nonce_used")
        #expect(Self.step(result, "replay")["status"] as? Int == 401)
        #expect(Self.step(result, "stale")["oauth_problem"] as? String == "timestamp_refused")
        let renew = Self.step(result, "renew")
        #expect(renew["status"] as? Int == 200 && renew["new_token"] as? Bool == true, "\(renew)")
        #expect((renew["new_token_api"] as? [String: Any])?["status"] as? Int == 200)
        #expect((renew["old_token_api"] as? [String: Any])?["oauth_problem"] as? String == "token_revoked")
        let deny = Self.step(result, "deny")
        #expect(deny["verifier_denied"] as? Bool == true, "\(deny)")
        #expect(
            deny["oauth_problem"] as? String == "user_refused"
                || (deny["access_token"] as? [String: Any])?["oauth_problem"] as? String == "user_refused", "\(deny)")
        // The audit log and the log hold no token.
        #expect(!fixture.gateway.text.contains("oauth_token=\""))
    }

    @Test(
        "a signed 2LO request is forwarded on the byte path; its replay is handed to NIO's path, which refuses it",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func bytePath() async throws {
        let fixture = try await Self.fixture()
        let forwarded = "linkgate_byte_path_total{event=\"forwarded\"}"
        let handedOff = "linkgate_byte_path_total{event=\"handed_off\"}"
        let forwardedBefore = try await fixture.metric(forwarded) ?? 0
        let handedOffBefore = try await fixture.metric(handedOff) ?? 0
        // Each step's request on a connection of its own: the byte path sees each first.
        let result = try await run(fixture, steps: "2lo,replay")
        #expect(Self.step(result, "2lo")["status"] as? Int == 200, "\(result)")
        let replay = Self.step(result, "replay")
        #expect(replay["first_status"] as? Int == 200, "\(replay)")
        #expect(replay["status"] as? Int == 401 && replay["oauth_problem"] as? String == "nonce_used", "\(replay)")
        #expect(
            try await fixture.metric(forwarded) ?? 0 == forwardedBefore + 2,
            "the 2LO request and the first of the replay")
        #expect(try await fixture.metric(handedOff) ?? 0 == handedOffBefore + 1, "the replayed request")
        #expect(try await fixture.upstreamCount() == 2)
    }

    @Test(
        "pipelined on one connection, signed 2LO requests wait for their nonces in order; a replay among them is refused",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func pipelinedOnBytePath() async throws {
        let fixture = try await Self.fixture()
        let signed = try #require(
            Self.step(try await run(fixture, steps: "sign"), "sign")["authorization"] as? [String])
        try #require(signed.count == 3)
        let api = "/rest/api/3/project/PROJ"
        func oauth(_ authorization: String) -> String {
            "GET \(api) HTTP/1.1\r\nHost: 127.0.0.1:\(fixture.port)\r\nAuthorization: \(authorization)\r\n\r\n"
        }
        func jwt(_ target: String) throws -> String {
            let token = try fixture.connectToken(method: "GET", target: target)
            return "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(fixture.port)\r\nAuthorization: JWT \(token)\r\n\r\n"
        }
        let forwarded = "linkgate_byte_path_total{event=\"forwarded\"}"
        let forwardedBefore = try await fixture.metric(forwarded) ?? 0
        // The second and later requests arrive while the first waits for its nonce.
        let requests = [oauth(signed[0]), oauth(signed[1]), try jwt("/bulk/a"), oauth(signed[0]), try jwt("/bulk/b")]
        let connection = try RawConnection(port: fixture.port)
        try connection.write(requests.joined())
        let responses = try connection.readResponses(requests.count)
        #expect(responses.map(\.status) == [200, 200, 200, 401, 200], "\(responses)")
        #expect(
            responses.map { $0.json["target"] as? String } == [api, api, "/bulk/a", nil, "/bulk/b"], "\(responses)")
        #expect(responses[3].json["error"] as? String == "nonce_used", "\(responses[3])")
        // The replay handed the connection over: the last request went through NIO's handlers.
        #expect(try await fixture.metric(forwarded) ?? 0 == forwardedBefore + 3)
        #expect(try await fixture.upstreamCount() == 4)
    }

    @Test(
        "two gateways on one SQLite file: a signed request spent on one is refused on the other, either way",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func nonceAcrossGateways() async throws {
        let fixture = try await Self.fixture()
        let second = try await fixture.secondGateway()
        defer { second.process.stop() }
        let signed = try #require(
            Self.step(try await run(fixture, steps: "sign"), "sign")["authorization"] as? [String])
        try #require(signed.count == 3)
        func send(_ authorization: String, to port: Int) throws -> RawConnection.Response {
            let connection = try RawConnection(port: port)
            try connection.write(
                "GET /rest/api/3/project/PROJ HTTP/1.1\r\nHost: 127.0.0.1:\(fixture.port)\r\n"
                    + "Authorization: \(authorization)\r\n\r\n")
            return try connection.readResponses(1)[0]
        }
        // Each gateway reads the other's nonces from the store's log: neither has them in memory.
        #expect(try send(signed[0], to: fixture.port).status == 200)
        let replayed = try send(signed[0], to: second.port)
        #expect(replayed.status == 401 && replayed.json["error"] as? String == "nonce_used", "\(replayed)")
        #expect(try send(signed[1], to: second.port).status == 200)
        #expect(try send(signed[1], to: fixture.port).status == 401)
        #expect(try await fixture.upstreamCount() == 2)
    }

    @Test(
        "2LO with impersonation is refused where the link does not allow it; who acts is the link's execute-as user",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func impersonationRefused() async throws {
        let fixture = try await Self.fixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/wiki-applink.json")) { app in
                var link = app["oauth1"] as! [String: Any]
                link["twoLeggedImpersonation"] = false
                app["oauth1"] = link
            }
        }
        let result = try await run(fixture, steps: "2lo,2loi")
        #expect(Self.step(result, "2lo")["status"] as? Int == 200)
        #expect(Self.step(result, "2loi")["status"] as? Int == 401)
        #expect(Self.step(result, "2loi")["oauth_problem"] as? String == "permission_denied")
    }

    @Test(
        "an access token past oauth1AccessToken is token_expired",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func expiry() async throws {
        let fixture = try await Self.fixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["lifetimes"] = ["oauth1AccessToken": 4]
            }
        }
        let late = try await run(fixture, steps: "dance,api", pause: 5)
        #expect(Self.step(late, "dance")["oauth_expires_in"] as? Int == 4, "\(late)")
        #expect(Self.step(late, "api")["status"] as? Int == 401, "\(late)")
        #expect(Self.step(late, "api")["oauth_problem"] as? String == "token_expired")
    }

    @Test(
        "unsigned, unknown-consumer and badly signed requests get their oauth_problem and nothing reaches the upstream")
    func refusals() async throws {
        let fixture = try await Self.fixture()
        let now = Int(Date().timeIntervalSince1970)
        func header(_ fields: [(String, String)]) -> (String, String) {
            ("Authorization", "OAuth " + fields.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ", "))
        }
        let base = [
            ("oauth_consumer_key", "wiki-applink"), ("oauth_signature_method", "RSA-SHA1"),
            ("oauth_timestamp", "\(now)"),
            ("oauth_nonce", "n\(now)"), ("oauth_version", "1.0"),
        ]
        let cases: [([(String, String)], Int, String)] = [
            (base + [("oauth_signature", "AAAA")], 401, "signature_invalid"),
            (base.filter { $0.0 != "oauth_nonce" } + [("oauth_signature", "AAAA")], 400, "parameter_absent"),
            (
                base.map { $0.0 == "oauth_consumer_key" ? ($0.0, "nobody") : $0 } + [("oauth_signature", "AAAA")], 401,
                "consumer_key_unknown"
            ),
            (
                base.map { $0.0 == "oauth_version" ? ($0.0, "2.0") : $0 } + [("oauth_signature", "AAAA")], 400,
                "version_rejected"
            ),
            (
                base.map { $0.0 == "oauth_signature_method" ? ($0.0, "PLAINTEXT") : $0 } + [("oauth_signature", "x")],
                400,
                "signature_method_rejected"
            ),
        ]
        for (fields, status, problem) in cases {
            let reply = try await fixture.send(.GET, "/rest/api/3/project/PROJ", headers: [header(fields)])
            #expect(reply.status == status, "\(problem): \(reply.status) \(reply.body)")
            #expect(
                reply.headers["WWW-Authenticate"].first
                    == "OAuth realm=\"http://127.0.0.1:\(fixture.port)\", oauth_problem=\"\(problem)\"")
            #expect(reply.json["error"] as? String == problem)
        }
        let requestToken = try await fixture.send(.POST, "/plugins/servlet/oauth/request-token")
        #expect(
            requestToken.status == 400
                && requestToken.headers["WWW-Authenticate"].first?.contains("parameter_absent") == true)
        #expect(try await fixture.upstreamCount() == 0)
    }
}
