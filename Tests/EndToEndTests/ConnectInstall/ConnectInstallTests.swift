import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `linkgate app install`, `uninstall`, `disable` and `enable` against a Connect
/// app written in Python (Tests/Interop/connect_app.py), as an app developer
/// would write it: it verifies the signed install callback with PyJWT against
/// `GET /connect-install-keys/{kid}` and checks its `qsh` with atlassian-jwt,
/// then calls the gateway with Connect JWTs signed with the secret it received
/// (docs/connect-install.md).
@Suite("Connect apps install themselves", .serialized)
struct ConnectInstallTests {
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop/connect_app.py").path
    static let key = "com.example.hello"

    /// A route its `READ` scope allows (a scope test only) and one that needs `WRITE`.
    static func addRoutes(_ folder: URL) throws {
        try GatewayFixture.editJSON(folder.appendingPathComponent("routes.json")) { routes in
            var list = routes["routes"] as! [Any]
            list +=
                [
                    ["methods": ["GET"], "path": "/hello/read", "upstream": "jira", "scopes": ["READ"]],
                    ["methods": ["POST"], "path": "/hello/write", "upstream": "jira", "scopes": ["WRITE"]],
                ] as [Any]
            routes["routes"] = list
        }
    }

    /// The Python app, serving until the test ends.
    final class App: @unchecked Sendable {
        let process: ServerProcess
        let port: Int
        let client: HTTPClient

        init(gateway: Int, _ arguments: [String] = []) async throws {
            process = try ServerProcess(
                URL(fileURLWithPath: try #require(ConnectInstallTests.python)),
                [
                    ConnectInstallTests.script, "--gateway", "http://127.0.0.1:\(gateway)", "--key",
                    ConnectInstallTests.key,
                ]
                    + arguments,
                name: "connect_app.py")
            port = try await process.port(after: "connect app listening on http://127.0.0.1")
            client = HTTPClient(eventLoopGroupProvider: .singleton)
        }

        deinit {
            try? client.syncShutdown()
            process.stop()
        }

        var descriptorURL: String { "http://127.0.0.1:\(port)/atlassian-connect.json" }

        func get(_ target: String) async throws -> [String: Any] {
            let response = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)\(target)"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1024 * 1024)
            return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
        }

        /// The lifecycle callbacks the app received, in order.
        func events() async throws -> [[String: Any]] {
            (try await get("/__state")["events"] as? [[String: Any]]) ?? []
        }

        /// The app calls the gateway with a Connect JWT signed with its shared secret; the gateway's status.
        func call(_ method: String, _ path: String) async throws -> Int {
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
            return try await get("/__call?method=\(method)&path=\(encoded)")["status"] as? Int ?? -1
        }

        /// Calls until the gateway answers `status` (a reload applies the change), at most `timeout` seconds.
        func waitForCall(_ method: String, _ path: String, status: Int, timeout: TimeInterval) async throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while try await call(method, path) != status {
                guard Date() < deadline else { return false }
                try await Task.sleep(for: .milliseconds(50))
            }
            return true
        }
    }

    static func linkgate(_ arguments: [String], store: String?) async throws -> LinkgateProcess.Result {
        try await LinkgateProcess.runAsync(arguments + (store.map { ["--store", $0] } ?? []), timeout: 60)
    }

    @Test(
        "install: the app verifies the signed callback, then its Connect JWTs pass; uninstall refuses them within 2 s",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"),
        arguments: StoreKind.available)
    func installUseUninstall(_ kind: StoreKind) async throws {
        let fixture = try await GatewayFixture(kind, edit: Self.addRoutes)
        let app = try await App(gateway: fixture.port, ["--scopes", "READ,ACT_AS_USER"])
        let folder = fixture.folder.path

        let install = try await Self.linkgate(
            ["app", "install", "--policies", folder, "--descriptor", app.descriptorURL], store: fixture.store)
        #expect(install.status == 0, "\(install.standardError)")
        #expect(install.standardOutput.contains("installed \(Self.key)"))
        let installed = try #require(try await app.events().first, "the app got no callback")
        #expect(installed["event"] as? String == "installed")
        #expect(installed["verified"] as? Bool == true, "\(installed)")
        #expect(installed["secretLength"] as? Int ?? 0 >= 32)
        #expect(installed["aud"] as? String == "http://127.0.0.1:\(app.port)")

        // Every gateway on the store serves the install key.
        let kid = try #require(installed["kid"] as? String)
        let served = try await fixture.send(.GET, "/connect-install-keys/\(kid)")
        #expect(served.status == 200)
        let second = try await fixture.secondGateway()
        #expect(try await fixture.send(.GET, "/connect-install-keys/\(kid)", port: second.port).body == served.body)
        second.process.stop()

        // The files: the secret private to its owner, the app user created.
        let secret = fixture.folder.appendingPathComponent("secrets/\(Self.key).secret").path
        let mode = try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let users = try String(contentsOf: fixture.folder.appendingPathComponent("users.json"), encoding: .utf8)
        #expect(users.contains("\"addon_\(Self.key)\""))

        // The app's calls, signed with the secret it received: its READ scope allows one route, not the other.
        #expect(try await app.waitForCall("GET", "/hello/read", status: 200, timeout: 5))
        #expect(try await app.call("POST", "/hello/write") == 403)

        // Re-installing rotates the secret: the app keeps working with the new one, the old one is refused.
        let oldSecret = Array(Array(try Data(contentsOf: URL(fileURLWithPath: secret))).dropLast())
        let again = try await Self.linkgate(
            ["app", "install", "--policies", folder, "--descriptor", app.descriptorURL], store: fixture.store)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput.contains("re-installed"))
        #expect(try await app.waitForCall("GET", "/hello/read", status: 200, timeout: 5))
        let stale = try fixture.connectToken(issuer: Self.key, method: "GET", target: "/hello/read", secret: oldSecret)
        #expect(try await fixture.send(.GET, "/hello/read", headers: [("Authorization", "JWT \(stale)")]).status == 401)

        // Disable, enable: the callbacks go out, and the door closes and opens again.
        let disable = try await Self.linkgate(["app", "disable", "--policies", folder, Self.key], store: fixture.store)
        #expect(disable.status == 0, "\(disable.standardError)")
        #expect(try await app.waitForCall("GET", "/hello/read", status: 401, timeout: 2))
        let enable = try await Self.linkgate(["app", "enable", "--policies", folder, Self.key], store: fixture.store)
        #expect(enable.status == 0, "\(enable.standardError)")
        #expect(try await app.waitForCall("GET", "/hello/read", status: 200, timeout: 2))

        // A live Bearer token of the app (2LOi with the secret and client id it was given), acting as alice.
        let appFile =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: fixture.folder.appendingPathComponent("apps/\(Self.key).json")))
            as? [String: Any]
        let clientID = try #require(appFile?["oauthClientId"] as? String)
        let assertion = try fixture.assertion(
            clientID: clientID, secret: Array(Array(try Data(contentsOf: URL(fileURLWithPath: secret))).dropLast()))
        let exchanged = try await fixture.exchange(assertion, scope: "READ")
        let bearer = try #require(exchanged.json["access_token"] as? String, "\(exchanged.body)")
        #expect(try await fixture.sendBearer(.GET, "/hello/read", token: bearer).status == 200)

        // Uninstall: the callback goes out, the files go, and the app's tokens are refused within 2 s.
        let uninstall = try await Self.linkgate(
            ["app", "uninstall", "--policies", folder, Self.key], store: fixture.store)
        #expect(uninstall.status == 0, "\(uninstall.standardError)")
        #expect(try await app.waitForCall("GET", "/hello/read", status: 401, timeout: 2))
        #expect(try await fixture.sendBearer(.GET, "/hello/read", token: bearer).status == 401)
        #expect(!FileManager.default.fileExists(atPath: secret))
        let events = try await app.events().map { $0["event"] as? String ?? "" }
        #expect(events == ["installed", "installed", "disabled", "enabled", "uninstalled"])
        #expect(try await app.events().allSatisfy { $0["verified"] as? Bool == true })
        withExtendedLifetime(fixture) {}
    }

    @Test(
        "an uninstalled callback the app fails is reported, and the uninstall happens all the same",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"))
    func failingUninstall() async throws {
        let fixture = try await GatewayFixture(store: nil, edit: Self.addRoutes)
        let app = try await App(gateway: fixture.port, ["--uninstalled-status", "500"])
        let folder = fixture.folder.path
        let install = try await Self.linkgate(
            ["app", "install", "--policies", folder, "--descriptor", app.descriptorURL], store: nil)
        #expect(install.status == 0, "\(install.standardError)")
        #expect(try await app.waitForCall("GET", "/hello/read", status: 200, timeout: 5))
        let uninstall = try await Self.linkgate(["app", "uninstall", "--policies", folder, Self.key], store: nil)
        #expect(uninstall.status == 0)
        #expect(
            uninstall.standardError.contains("warning: the app answered 500 to uninstalled"),
            "\(uninstall.standardError)")
        #expect(uninstall.standardError.contains("the test app fails its uninstall"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/apps/\(Self.key).json"))
        #expect(try await app.waitForCall("GET", "/hello/read", status: 401, timeout: 2))
    }

    @Test("the install key's public key is served as PEM; an unknown kid is a 404")
    func installKeyEndpoint() async throws {
        let fixture = try await GatewayFixture(store: nil)
        #expect(try await fixture.send(.GET, "/connect-install-keys/lg-install-nothing").status == 404)
        // A descriptor the app would refuse still makes the key (first use), before the callback fails.
        let descriptor = fixture.folder.appendingPathComponent("hello.descriptor")
        try Data(
            #"{"key": "com.example.down", "baseUrl": "http://127.0.0.1:\#(try GatewayFixture.closedPort())", "authentication": {"type": "jwt"}, "lifecycle": {"installed": "/installed"}}"#
                .utf8
        ).write(to: descriptor)
        let result = try await Self.linkgate(
            ["app", "install", "--policies", fixture.folder.path, "--descriptor", descriptor.path], store: nil)
        #expect(result.status == 1)
        #expect(result.standardError.contains("could not be reached"), "\(result.standardError)")
        let kid = try #require(Self.installKid(fixture.folder))
        let answer = try await fixture.send(.GET, "/connect-install-keys/\(kid)")
        #expect(answer.status == 200)
        #expect(answer.body.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(answer.headers["content-type"].first == "application/x-pem-file")
        #expect(try await fixture.send(.POST, "/connect-install-keys/\(kid)").status == 405)
    }

    /// The kid of the install key in the fixture's SQLite store.
    static func installKid(_ folder: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
                + "\"select kid from signing_keys where slot='connect-install'\").fetchone()[0])",
            folder.appendingPathComponent("var/linkgate.sqlite").path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
    }

    /// Every policy file's bytes, by path (the store under var/ aside).
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let path = enumerator?.nextObject() as? String {
            guard !path.hasPrefix("var"), !path.hasSuffix(".descriptor") else { continue }
            let url = folder.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = try Data(contentsOf: url)
            } else {
                files[path + "/"] = Data()
            }
        }
        return files
    }

    @Test(
        "refusals leave the policy folder exactly as it was",
        .enabled(if: python != nil, "needs LINKGATE_PYTHON (make test sets it up)"),
        arguments: [
            (["--installed-status", "500"], "the app answered 500 to installed"),
            (["--auth-type", "none"], "/authentication/type: must be \"jwt\", found \"none\""),
            (["--scopes", "READ,NOT_A_SCOPE"], "/scopes/1: unknown scope \"NOT_A_SCOPE\""),
            (["--base-url", "http://app.example.com"], "/baseUrl: must use https"),
        ])
    func refusals(_ arguments: [String], message: String) async throws {
        let folder = try ExampleSite.brokenCopy { _ in }
        defer { try? FileManager.default.removeItem(at: folder) }
        let app = try await App(gateway: try GatewayFixture.closedPort(), arguments)
        let before = try Self.snapshot(folder)
        let result = try await Self.linkgate(
            ["app", "install", "--policies", folder.path, "--descriptor", app.descriptorURL], store: nil)
        #expect(result.status == 1)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try Self.snapshot(folder) == before)
        if arguments.first == "--installed-status" {
            // The app's answer is quoted; the callback was made (and signed) all the same.
            #expect(result.standardError.contains("the test app refuses this install"))
            #expect(try await app.events().count == 1)
        } else {
            #expect(try await app.events().isEmpty, "no callback for a refused descriptor")
        }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
