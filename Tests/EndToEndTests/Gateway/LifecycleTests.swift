import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// Reload, shutdown, the admin listener and the access log, through the real binary.
@Suite("linkgate serve: reload, shutdown, admin listener and access log", .serialized)
struct LifecycleTests {
    @Test("an app disabled by editing its policy file is cut off within 2 s, and enabled again the same way")
    func disableAppByEdit() async throws {
        try await LoadGate.shared.exclusively {
            let gateway = try await GatewayFixture()
            #expect(try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 200)
            try gateway.setApp("reports.json", enabled: false)
            var edited = Date()
            // Each edit is one change of the folder, so one reload: generation 2, then 3.
            #expect(await gateway.waitForReload(generation: 2), "\(gateway.gateway.text.suffix(2000))")
            let disabling = Date().timeIntervalSince(edited)
            #expect(try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 401)
            #expect(try await gateway.admin("/readyz").body.contains("generation 2,"))
            try gateway.setApp("reports.json", enabled: true)
            edited = Date()
            #expect(await gateway.waitForReload(generation: 3), "\(gateway.gateway.text.suffix(2000))")
            let enabling = Date().timeIntervalSince(edited)
            #expect(try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 200)
            // The better of the two: with every suite running at once on two cores, one
            // reload of the debug build can be starved of CPU for a while.
            #expect(min(disabling, enabling) < 2, "reloaded after \(disabling) s and \(enabling) s")
            #expect(try await gateway.metric("linkgate_policy_reloads_total{result=\"success\"}") == 2)
        }
    }

    @Test("a broken policy is reported with the check messages, counted, and the old policy stays in force")
    func brokenReload() async throws {
        let gateway = try await GatewayFixture()
        let routes = gateway.folder.appendingPathComponent("routes.json")
        let good = try Data(contentsOf: routes)
        try GatewayFixture.replace(
            routes, with: Data("{ \"upstreams\": {}, \"routes\": [ { \"methods\": [\"GET\"] } ] }".utf8))
        // The failure line keeps generation 1 in force; the check messages follow it.
        #expect(await gateway.waitForReload(generation: 1, result: "failure"), "\(gateway.gateway.text.suffix(2000))")
        #expect(await gateway.gateway.waitForOutput { $0.contains("routes.json: /routes/0/path: is required") })
        #expect(try await gateway.metric("linkgate_policy_reloads_total{result=\"failure\"}") == 1)
        #expect(try await gateway.metric("linkgate_policy_reloads_total{result=\"success\"}") == 0)
        #expect(try await gateway.admin("/readyz").body.contains("generation 1,"))
        #expect(
            try await gateway.sendSigned(.GET, "/rest/api/3/project/PROJ").status == 200, "the old policy still serves")
        try GatewayFixture.replace(routes, with: good)
        #expect(await gateway.waitForReload(generation: 2), "\(gateway.gateway.text.suffix(2000))")
        #expect(try await gateway.admin("/readyz").body.contains("generation 2,"))
    }

    @Test("SIGHUP reloads the policy")
    func hangupReloads() async throws {
        let gateway = try await GatewayFixture()
        // Before the reloader traps SIGHUP, the signal would end the process (nothing changes on
        // disk: only the signal can cause generation 2).
        #expect(await gateway.waitForReloader(), "\(gateway.gateway.text.suffix(2000))")
        gateway.gateway.signal(SIGHUP)
        #expect(await gateway.waitForReload(generation: 2), "\(gateway.gateway.text.suffix(2000))")
        #expect(gateway.gateway.text.contains("policy reloaded (SIGHUP): generation 2"))
        #expect(try await gateway.admin("/readyz").body.contains("generation 2,"))
    }

    @Test("SIGTERM lets in-flight requests finish, then the process exits 0")
    func gracefulShutdown() async throws {
        let gateway = try await GatewayFixture()
        let inFlight = (0..<4).map { _ in
            Task { try await gateway.sendSigned(.GET, "/bulk/slow", headers: [("X-Echo-Delay-Ms", "1500")]) }
        }
        // All four have reached the upstream (and so are in flight in the gateway) before SIGTERM.
        try #require(try await gateway.waitForUpstreamInFlight(4), "the echo never had 4 requests in flight")
        gateway.gateway.signal(SIGTERM)
        for request in inFlight {
            let reply = try await request.value
            #expect(reply.status == 200)
        }
        let status = await gateway.gateway.waitForExit(timeout: 12)
        #expect(status == 0)
        // The listener is closed: a new connection is refused at once (the HTTP client would
        // retry a refused connection until its connect timeout).
        #expect(throws: POSIXError(.ECONNREFUSED)) { try RawHTTP.get(port: gateway.port, "/status") }
    }

    /// A connection accepted just as the server stops taking new ones was once
    /// dropped unserved, and that crashed the process (docs/gateway.md §1, "Shutdown").
    @Test("connections arriving while SIGTERM lands are closed, never a crash: the process exits 0")
    func shutdownWhileConnecting() async throws {
        let gateway = try await GatewayFixture()
        let knocker = Knocker(ports: [gateway.port, gateway.adminPort])
        defer { knocker.stop() }
        try #require(await knocker.accepted.wait(timeout: 10) { $0 >= 200 }, "the listeners accept connections")
        gateway.gateway.signal(SIGTERM)
        let status = await gateway.gateway.waitForExit(timeout: 12)
        #expect(status == 0, "\(gateway.gateway.text.suffix(3000))")
        #expect(!gateway.gateway.text.contains("Fatal error"))
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
        for family in [
            "linkgate_requests_total", "linkgate_decisions_total", "linkgate_token_grants_total",
            "linkgate_upstream_latency_seconds", "linkgate_policy_reloads_total", "linkgate_store_errors_total",
        ] {
            #expect(metrics.body.contains("# TYPE \(family) "), "\(family)")
        }
        let route = "/rest/api/3/project/{projectIdOrKey}"
        #expect(
            try await gateway.metric("linkgate_requests_total{route=\"\(route)\",method=\"GET\",status=\"200\"}") == 1)
        #expect(
            try await gateway.metric("linkgate_decisions_total{outcome=\"deny\",reason=\"insufficient_permission\"}")
                == 1)
        #expect(
            try await gateway.metric("linkgate_upstream_latency_seconds_count{upstream=\"jira\",outcome=\"response\"}")
                == 1)
    }

    @Test("one access line per request with id, app, user, route, status, latency and reason, never the token")
    func accessLog() async throws {
        let gateway = try await GatewayFixture()
        let target = "/rest/api/3/project/SECRET"
        let token = try gateway.connectToken(method: "GET", target: target)
        _ = try await gateway.send(
            .GET, target, headers: [("Authorization", "JWT \(token)"), ("X-Request-Id", "log-check-1")])
        _ = try await gateway.send(.GET, "/status?jwt=\(token)")
        #expect(await gateway.gateway.waitForOutput { $0.contains("request_id=log-check-1") })
        let line = try #require(
            gateway.gateway.text.split(separator: "\n").first { $0.contains("request_id=log-check-1") })
        for part in [
            "app=com.example.reports", "user=app-reports", "route=/rest/api/3/project/{projectIdOrKey}",
            "status=403", "latency_ms=", "reason=insufficient_permission", "method=GET",
        ] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
        #expect(await gateway.gateway.waitForOutput { $0.components(separatedBy: "linkgate.access").count - 1 >= 2 })
        let signature = String(token.split(separator: ".").last!)
        #expect(!gateway.gateway.text.contains(signature), "no token in the log")
    }
}
