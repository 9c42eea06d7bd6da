import Foundation
import Testing

/// `make run`'s script (scripts/run-demo.sh) stops the gateway and the echo
/// upstream when it is itself stopped by a signal, not only by Ctrl-C
/// (README, "Quick start").
@Suite("Hardening: make run stops what it started")
struct RunDemoEndToEndTests {
    static let repository = URL(fileURLWithPath: ExampleSite.folder).deletingLastPathComponent()

    @Test("a TERM to the demo script leaves neither the gateway nor the upstream running")
    func termStopsEverything() async throws {
        let (gatewayPort, adminPort, upstreamPort) = (
            try GatewayFixture.closedPort(), try GatewayFixture.closedPort(), try GatewayFixture.closedPort()
        )
        let folder = try ExampleSite.brokenCopy { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) { gateway in
                gateway["listen"] = "127.0.0.1:\(gatewayPort)"
                gateway["adminListen"] = "127.0.0.1:\(adminPort)"
                gateway["baseUrl"] = "http://127.0.0.1:\(gatewayPort)"
            }
            try GatewayFixture.editJSON(folder.appendingPathComponent("routes.json")) { routes in
                var upstreams = routes["upstreams"] as! [String: Any]
                upstreams["jira"] = ["url": "http://127.0.0.1:\(upstreamPort)"]
                routes["upstreams"] = upstreams
            }
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let binDirectory = LinkgateProcess.binary.deletingLastPathComponent().path
        // Started as from a terminal: a child of the test runner inherits its blocked
        // signals (TERM among them), and bash cannot trap a signal that stays blocked.
        let demo = try ServerProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c", Self.unblockSignalsAndExec, "/bin/bash",
                Self.repository.appendingPathComponent("scripts/run-demo.sh").path, binDirectory,
            ],
            name: "run-demo.sh",
            environment: [
                "POLICIES": folder.path, "UPSTREAM": "127.0.0.1:\(upstreamPort)",
                "GATEWAY": "http://127.0.0.1:\(gatewayPort)",
            ])
        defer { demo.stop() }
        _ = try await demo.waitForLine(after: "Press Ctrl-C to stop", timeout: 60)
        #expect(Self.accepts(port: gatewayPort) && Self.accepts(port: upstreamPort))

        demo.signal(SIGTERM)
        #expect(await demo.waitForExit(timeout: 15) != nil, "the script exits on TERM")
        for port in [gatewayPort, adminPort, upstreamPort] {
            #expect(await Self.closes(port: port, within: 15), "nothing listens on \(port) any more")
        }
    }

    /// Clears the signal mask, then runs argv[1:] in its place.
    static let unblockSignalsAndExec = """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execv(sys.argv[1], sys.argv[1:])
        """

    /// Whether something accepts a TCP connection on 127.0.0.1:`port` now.
    static func accepts(port: Int) -> Bool {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Polls (every 50 ms, at most `seconds`) until nothing accepts on `port`.
    static func closes(port: Int, within seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !accepts(port: port) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !accepts(port: port)
    }
}
