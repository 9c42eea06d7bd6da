import Foundation
import Testing

/// Finding 9 of the hardening issue: a listener keeps at most `connections.max`
/// connections, a head must be complete within `headerTimeoutMs` once it began,
/// a body may not pause longer than `bodyTimeoutMs` (and a request to the
/// gateway's own endpoints must be read whole within it), and an idle connection
/// closes after `keepAliveTimeoutMs` (docs/gateway.md §1, "Client connections").
@Suite("Hardening: connection limits and client timeouts", .serialized)
struct ConnectionLimitTests {
    /// A gateway with small limits, so each test is quick.
    static func gateway(max: Int = 10_000) async throws -> GatewayFixture {
        try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) { gateway in
                gateway["connections"] = [
                    "max": max, "headerTimeoutMs": 600, "bodyTimeoutMs": 600, "keepAliveTimeoutMs": 800,
                ]
            }
        }
    }

    @Test("beyond connections.max a new connection gets a 503 and is closed; a freed slot is used again")
    func maxConnections() async throws {
        let gateway = try await Self.gateway(max: 3)
        let held = try (0..<3).map { _ in try RawConnection(port: gateway.port) }
        // Each held connection is counted once the gateway has set it up: one request each proves it.
        for connection in held {
            try connection.write("GET /status HTTP/1.1\r\nHost: gateway\r\n\r\n")
            #expect(try connection.readResponse().status != 503)
        }
        let refused = try RawConnection(port: gateway.port)
        let answer = try refused.readResponse()
        #expect(answer.status == 503, "\(answer)")
        #expect(answer.json["error"] as? String == "temporarily_unavailable")
        #expect(answer.closesConnection)
        #expect(refused.waitForClose(timeout: 5))
        held[0].close()
        // The slot is released when the gateway sees the close: retry until it has, at most 5 s.
        let deadline = Date().addingTimeInterval(5)
        var status = 503
        while status == 503, Date() < deadline {
            let next = try RawConnection(port: gateway.port)
            try next.write("GET /status HTTP/1.1\r\nHost: gateway\r\n\r\n")
            status = try next.readResponse().status
        }
        #expect(status != 503, "a connection closed frees its slot")
    }

    @Test("a head sent one byte at a time is a 408 once headerTimeoutMs passed, then the connection closes")
    func slowHead() async throws {
        let gateway = try await Self.gateway()
        let connection = try RawConnection(port: gateway.port)
        let started = Date()
        var answered: RawConnection.Response?
        for byte in "GET /status HTTP/1.1\r\nHost: gateway\r\nX-Slow: ".utf8 {
            try? connection.write([byte])
            if connection.hasData(within: 0.1) {
                answered = try connection.readResponse()
                break
            }
        }
        let answer = try #require(answered, "no answer while the head trickled in")
        #expect(answer.status == 408, "\(answer)")
        #expect(answer.json["error"] as? String == "invalid_request")
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(connection.waitForClose(timeout: 5))
    }

    @Test("a token request whose body stops is a 408; one that trickles is cut off after bodyTimeoutMs too")
    func slowBody() async throws {
        let gateway = try await Self.gateway()
        let stalled = try RawConnection(port: gateway.port)
        try stalled.write(
            "POST /oauth2/token HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 100\r\n\r\ngrant_type")
        let answer = try stalled.readResponse()
        #expect(answer.status == 408, "\(answer)")
        #expect(answer.closesConnection)
        #expect(stalled.waitForClose(timeout: 5), "the connection closes")
        let trickled = try RawConnection(port: gateway.port)
        try trickled.write(
            "POST /oauth2/token HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 100\r\n\r\n")
        let started = Date()
        var closed = false
        while !closed, Date().timeIntervalSince(started) < 5 {
            try? trickled.write("a")
            closed = trickled.waitForClose(timeout: 0.2)
        }
        #expect(closed, "a body trickling in one byte per 200 ms is cut off")
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test("a proxied upload that pauses longer than bodyTimeoutMs is a 408 and never completes upstream")
    func pausedUpload() async throws {
        let gateway = try await Self.gateway()
        let target = "/bulk/paused"
        let token = try gateway.connectToken(method: "PUT", target: target)
        let connection = try RawConnection(port: gateway.port)
        try connection.write(
            "PUT \(target) HTTP/1.1\r\nHost: gateway\r\nAuthorization: JWT \(token)\r\nContent-Length: 1000\r\n\r\nabc")
        let answer = try connection.readResponse(timeout: 5)
        #expect(answer.status == 408, "\(answer)")
        #expect(connection.waitForClose(timeout: 5))
    }

    @Test("an idle keep-alive connection is closed after keepAliveTimeoutMs")
    func idleKeepAlive() async throws {
        let gateway = try await Self.gateway()
        let connection = try RawConnection(port: gateway.port)
        try connection.write("GET /status HTTP/1.1\r\nHost: gateway\r\n\r\n")
        _ = try connection.readResponse()
        let started = Date()
        #expect(connection.waitForClose(timeout: 5))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed > 0.5 && elapsed < 3, "closed after \(elapsed) s")
    }
}
