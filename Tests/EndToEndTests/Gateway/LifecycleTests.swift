import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// Reload, shutdown, the admin listener and the access log, through the real binary.
@Suite("linkgate serve: reload, shutdown, admin listener and access log", .serialized)
struct LifecycleTests {
    @Test("an app disabled by editing its policy file is cut off within 2 s, and enabled again the same way")
    func disableAppByEdit() async throws {
        let gateway = try await GatewayFixture()
        #expect(try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 200)
        try gateway.setApp("reports.json", enabled: false)
        let edited = Date()
        var status = 200
        while Date().timeIntervalSince(edited) < 5 {
            status = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = Date().timeIntervalSince(edited)
        #expect(status == 401)
        #expect(elapsed < 2, "cut off after \(elapsed) s")
        try gateway.setApp("reports.json", enabled: true)
        var restored = 401
        for _ in 0..<100 where restored != 200 {
            try await Task.sleep(for: .milliseconds(50))
            restored = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status
        }
        #expect(restored == 200)
        #expect(try await gateway.metric("linkgate_policy_reloads_total{result=\"success\"}") ?? 0 >= 2)
    }

    @Test("a broken policy is reported with the check messages, counted, and the old policy stays in force")
    func brokenReload() async throws {
        let gateway = try await GatewayFixture()
        let routes = gateway.folder.appendingPathComponent("routes.json")
        let good = try Data(contentsOf: routes)
        try Data("{ \"upstreams\": {}, \"routes\": [ { \"methods\": [\"GET\"] } ] }".utf8).write(to: routes, options: .atomic)
        #expect(gateway.gateway.waitForOutput { $0.contains("policy reload failed") })
        #expect(gateway.gateway.waitForOutput { $0.contains("routes.json: /routes/0/path: is required") })
        #expect(try await gateway.metric("linkgate_policy_reloads_total{result=\"failure\"}") == 1)
        #expect(try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 200, "the old policy still serves")
        try good.write(to: routes, options: .atomic)
        #expect(gateway.gateway.waitForOutput { $0.contains("policy reloaded") })
    }

    @Test("SIGHUP reloads the policy")
    func hangupReloads() async throws {
        let gateway = try await GatewayFixture()
        // Let the reloader start trapping SIGHUP (nothing changes on disk: only the signal can cause generation 2).
        try await Task.sleep(for: .milliseconds(700))
        gateway.gateway.signal(SIGHUP)
        #expect(gateway.gateway.waitForOutput { $0.contains("policy reloaded (SIGHUP): generation 2") })
        #expect(try await gateway.admin("/readyz").body.contains("generation 2"))
    }

    @Test("SIGTERM lets in-flight requests finish, then the process exits 0")
    func gracefulShutdown() async throws {
        let gateway = try await GatewayFixture()
        let inFlight = (0..<4).map { _ in
            Task { try await gateway.sendSigned(.GET, "/bulk/slow", headers: [("X-Echo-Delay-Ms", "1500")]) }
        }
        try await Task.sleep(for: .milliseconds(500))
        gateway.gateway.signal(SIGTERM)
        for request in inFlight {
            let reply = try await request.value
            #expect(reply.status == 200)
        }
        let status = gateway.gateway.waitForExit(timeout: 12)
        #expect(status == 0)
        await #expect(throws: (any Error).self) {
            _ = try await gateway.send(.GET, "/status")
        }
    }

    @Test("the admin listener serves /healthz, /readyz and the metric families of docs/gateway.md §7")
    func adminListener() async throws {
        let gateway = try await GatewayFixture()
        _ = try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ")
        _ = try await gateway.sendSigned(.GET, "/rest/api/3/project/SECRET")
        #expect(try await gateway.admin("/healthz").status == 200)
        let ready = try await gateway.admin("/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains("generation 1"))
        let metrics = try await gateway.admin("/metrics")
        #expect(metrics.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
        for family in ["linkgate_requests_total", "linkgate_decisions_total", "linkgate_token_grants_total",
                       "linkgate_upstream_latency_seconds", "linkgate_policy_reloads_total", "linkgate_store_errors_total"] {
            #expect(metrics.body.contains("# TYPE \(family) "), "\(family)")
        }
        let route = "/rest/api/3/project/{projectIdOrKey}"
        #expect(try await gateway.metric("linkgate_requests_total{route=\"\(route)\",method=\"GET\",status=\"200\"}") == 1)
        #expect(try await gateway.metric("linkgate_decisions_total{outcome=\"deny\",reason=\"insufficient_permission\"}") == 1)
        #expect(try await gateway.metric("linkgate_upstream_latency_seconds_count{upstream=\"jira\",outcome=\"response\"}") == 1)
    }

    @Test("one access line per request with id, app, user, route, status, latency and reason, never the token")
    func accessLog() async throws {
        let gateway = try await GatewayFixture()
        let target = "/rest/api/3/project/SECRET"
        let token = try gateway.connectToken(method: "GET", target: target)
        _ = try await gateway.send(.GET, target, headers: [("Authorization", "JWT \(token)"), ("X-Request-Id", "log-check-1")])
        _ = try await gateway.send(.GET, "/status?jwt=\(token)")
        #expect(gateway.gateway.waitForOutput { $0.contains("request_id=log-check-1") })
        let line = try #require(gateway.gateway.text.split(separator: "\n").first { $0.contains("request_id=log-check-1") })
        for part in ["app=com.example.reports", "user=app-reports", "route=/rest/api/3/project/{projectIdOrKey}",
                     "status=403", "latency_ms=", "reason=insufficient_permission", "method=GET"] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
        #expect(gateway.gateway.waitForOutput { $0.components(separatedBy: "linkgate.access").count - 1 >= 2 })
        let signature = String(token.split(separator: ".").last!)
        #expect(!gateway.gateway.text.contains(signature), "no token in the log")
    }
}
