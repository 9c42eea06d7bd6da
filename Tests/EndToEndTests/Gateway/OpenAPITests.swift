import Foundation
import NIOCore
import Testing

/// docs/openapi.yaml against the running gateway (docs/gateway.md §7):
/// schemathesis (PyPI, in the virtual environment `make test` makes) generates
/// requests from the document for each listener, seeded and bounded, and
/// checks that no answer is a server error and every answer fits the schema.
@Suite("OpenAPI: schemathesis against the running gateway")
struct OpenAPIEndToEndTests {
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
    /// Examples per operation and the seed: the same requests on every run.
    static let maxExamples = 25
    static let seed = 16

    @Test(
        "no server error and no answer outside the schema, on the main, admin and authz listeners",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func schemathesis() async throws {
        let fixture = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["authzListen"] = "127.0.0.1:0"
            }
        }
        let authzPort = try await fixture.gateway.port(after: "authz listener on http://127.0.0.1")
        let admin = try await fixture.client.get(url: "http://127.0.0.1:\(fixture.adminPort)/openapi.yaml").get()
        #expect(admin.status.code == 200)
        #expect(admin.headers["Content-Type"] == ["application/yaml"])
        #expect(admin.body.map { Array($0.readableBytesView) } == [UInt8](try Data(contentsOf: Self.document)))

        // Without a credential, then with one for the operations that need it: an access token
        // from the JWT bearer grant, and an app's client credentials for introspection and revocation.
        let token = try await fixture.accessToken()
        let client = GatewayFixture.basic("automation-2loi-client", GatewayFixture.automationSecret)
        let main = "http://127.0.0.1:\(fixture.port)"
        let runs: [(name: String, url: String, selection: [String], header: String?)] = [
            ("main listener", main, ["--include-tag", "main"], nil),
            (
                "accessible-resources with a token", main, ["--include-operation-id", "accessibleResources"],
                "Authorization: Bearer \(token)"
            ),
            (
                "introspection and revocation with client credentials", main,
                ["--include-operation-id", "introspect", "--include-operation-id", "revoke"],
                "\(client.0): \(client.1)"
            ),
            ("admin listener", "http://127.0.0.1:\(fixture.adminPort)", ["--include-tag", "admin"], nil),
            ("authz listener", "http://127.0.0.1:\(authzPort)", ["--include-tag", "authz"], nil),
            (
                "authz listener with a token", "http://127.0.0.1:\(authzPort)", ["--include-tag", "authz"],
                "Authorization: Bearer \(token)"
            ),
        ]
        for run in runs {
            let (status, output) = try await Self.run(
                url: run.url, run.selection + (run.header.map { ["--header", $0] } ?? []))
            #expect(status == 0, "schemathesis, \(run.name): exit \(status)\n\(output)")
        }
        withExtendedLifetime(fixture) {}
    }

    /// `schemathesis run` on the operations `arguments` select, bounded by `timeout`
    /// (exit 124 when it ran out): its exit status and its whole output.
    static func run(url: String, _ arguments: [String]) async throws -> (Int32, String) {
        let workingDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workingDirectory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments =
            [
                "-k", "5", "120", try #require(python), "-m", "schemathesis.cli", "run", document.path,
                "--url", url, "--checks", "not_a_server_error,response_schema_conformance",
                "--max-examples", String(maxExamples), "--seed", String(seed), "--workers", "1",
                "--generation-database", "none", "--no-color", "--request-timeout", "10",
            ] + arguments
        process.currentDirectoryURL = workingDirectory
        var environment = ProcessInfo.processInfo.environment
        environment["SCHEMATHESIS_TELEMETRY"] = "false"
        process.environment = environment
        let pipe = Pipe()
        let output = OutputBuffer.reading(pipe)
        process.standardOutput = pipe
        process.standardError = pipe
        let exited = Watched<Int32?>(nil)
        process.terminationHandler = { ended in exited.update(finishing: true) { $0 = ended.terminationStatus } }
        try process.run()
        if await !exited.wait(timeout: 140, until: { $0 != nil }) { kill(process.processIdentifier, SIGKILL) }
        _ = await output.waitForEnd(timeout: 10)
        return (exited.current ?? -1, output.text)
    }
}
