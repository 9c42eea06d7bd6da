import Foundation
import JWT
import Testing

@testable import Policy

/// The policy side of `linkgate app install` (docs/connect-install.md): the
/// descriptor's checks, the files an install changes, and atomic writes.
@Suite("Connect install: descriptors, install plans, atomic writes")
struct ConnectInstallPolicyTests {
    static let known = ScopeNames.connect.union(ScopeNames.classicJira3LO)

    static func descriptor(_ change: (inout [String: Any]) -> Void = { _ in }) throws -> [UInt8] {
        var object: [String: Any] = [
            "key": "com.example.hello", "name": "Hello", "description": "says hello",
            "baseUrl": "https://hello.example.com/app/", "authentication": ["type": "jwt"],
            "lifecycle": ["installed": "/installed", "uninstalled": "/uninstalled"],
            "scopes": ["read", "WRITE"], "modules": ["generalPages": []], "vendor": ["name": "Example"],
        ]
        change(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    static func problems(_ bytes: [UInt8]) -> [String] {
        do {
            _ = try ConnectDescriptor.parse(bytes, source: "hello.json", knownScopes: known)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("a good descriptor: key, name, baseUrl without its trailing slash, scopes, lifecycle; other members ignored")
    func goodDescriptor() throws {
        let parsed = try ConnectDescriptor.parse(try Self.descriptor(), source: "hello.json", knownScopes: Self.known)
        #expect(parsed.key == "com.example.hello")
        #expect(parsed.name == "Hello")
        #expect(parsed.baseUrl == "https://hello.example.com/app")
        #expect(parsed.scopes == ["read", "WRITE"])
        #expect(parsed.lifecycle.paths == ["installed": "/installed", "uninstalled": "/uninstalled"])
        #expect(parsed.lifecycle.url(of: "installed") == "https://hello.example.com/app/installed")
        #expect(parsed.lifecycle.url(of: "enabled") == nil)
    }

    @Test(
        "each missing or wrong field is named at its pointer",
        arguments: [
            (#"{"key": null}"#, "hello.json: /key: is required"),
            (#"{"key": "../evil"}"#, "hello.json: /key: must be 1 to 64 letters"),
            (#"{"baseUrl": null}"#, "hello.json: /baseUrl: is required"),
            (#"{"baseUrl": "http://hello.example.com"}"#, "hello.json: /baseUrl: must use https"),
            (#"{"baseUrl": "ftp://hello.example.com"}"#, "hello.json: /baseUrl: must be an http or https URL"),
            (#"{"authentication": {"type": "none"}}"#, "hello.json: /authentication/type: must be \"jwt\""),
            (#"{"authentication": null}"#, "hello.json: /authentication: is required"),
            (#"{"scopes": ["READ", "REED"]}"#, "hello.json: /scopes/1: unknown scope \"REED\""),
            (#"{"lifecycle": {"uninstalled": "/u"}}"#, "hello.json: /lifecycle/installed: is required"),
            (#"{"lifecycle": {"installed": "installed"}}"#, "hello.json: /lifecycle/installed: must be a path"),
        ])
    func refusedDescriptor(_ change: String, _ expected: String) throws {
        // Each member of `change` replaces the descriptor's; null removes it.
        let members = try JSONSerialization.jsonObject(with: Data(change.utf8)) as! [String: Any]
        let problems = Self.problems(
            try Self.descriptor { object in
                for (key, value) in members { object[key] = value is NSNull ? nil : value }
            })
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix(expected) == true, "\(problems)")
    }

    @Test("http is accepted for this machine only; a body that is not JSON says so")
    func loopbackAndJSON() throws {
        #expect(Self.problems(try Self.descriptor { $0["baseUrl"] = "http://127.0.0.1:5000" }).isEmpty)
        #expect(Self.problems(Array("not json".utf8)).first?.contains("is not a JSON descriptor") == true)
    }

    static func compiled(_ folder: TemporaryFolder) throws -> CompiledPolicy {
        try PolicyLoader.compile(folder: folder.path, environment: [:])
    }

    @Test("installing a new app: the secret file (0600), the app user, then the app file; the folder loads")
    func installNewApp() throws {
        let folder = try PolicyFixtures.folder()
        let descriptor = try ConnectDescriptor.parse(
            try Self.descriptor(), source: "https://hello.example.com/app/atlassian-connect.json",
            knownScopes: Self.known)
        let secret = AppInstallation.newSharedSecret()
        #expect(secret.utf8.count >= 32)
        let plan = try AppInstallation.install(descriptor, sharedSecret: secret, policy: try Self.compiled(folder))
        #expect(
            plan.changes.map(\.file) == [
                "secrets/com.example.hello.secret", "users.json", "apps/com.example.hello.json",
            ])
        #expect(plan.createsUser && !plan.reinstall)
        try PolicyFolderWriter(folder: folder.path).apply(plan.changes)

        let policy = try Self.compiled(folder)
        let app = try #require(policy.app(key: "com.example.hello"))
        #expect(app.sharedSecret?.string == secret)
        #expect(app.sharedSecret?.origin == .file("secrets/com.example.hello.secret"))
        #expect(app.scopes == ["READ", "WRITE"])
        #expect(app.enabled)
        #expect(app.appUser == "addon_com.example.hello")
        #expect(app.connect?.baseUrl == "https://hello.example.com/app")
        #expect(app.connect?.url(of: "uninstalled") == "https://hello.example.com/app/uninstalled")
        #expect(policy.user(accountId: "addon_com.example.hello")?.displayName == "Hello")
        #expect(policy.user(accountId: "u-alice") != nil)
        #expect(PolicyFolderWriter.mode(of: folder.path + "/secrets/com.example.hello.secret") == 0o600)
        #expect(PolicyFolderWriter.mode(of: folder.path + "/secrets") == 0o700)
    }

    @Test("re-installing keeps the app's file and other members, rotates the secret, and adds no user")
    func reinstall() throws {
        let folder = try PolicyFixtures.folder()
        var descriptor = try ConnectDescriptor.parse(try Self.descriptor(), source: "d", knownScopes: Self.known)
        descriptor.key = "com.example.demo"
        let plan = try AppInstallation.install(
            descriptor, sharedSecret: String(repeating: "s", count: 40), policy: try Self.compiled(folder))
        #expect(plan.reinstall && !plan.createsUser)
        #expect(plan.appFile == "apps/demo.json")
        #expect(plan.changes.map(\.file) == ["secrets/com.example.demo.secret", "apps/demo.json"])
        try PolicyFolderWriter(folder: folder.path).apply(plan.changes)
        let app = try #require(try Self.compiled(folder).app(key: "com.example.demo"))
        #expect(app.appUser == "app-demo")
        #expect(app.sharedSecret?.string == String(repeating: "s", count: 40))
        #expect(app.scopes == ["READ", "WRITE"])
    }

    @Test("disable, enable and uninstall change only the app's own files")
    func disableEnableUninstall() throws {
        let folder = try PolicyFixtures.folder()
        let descriptor = try ConnectDescriptor.parse(try Self.descriptor(), source: "d", knownScopes: Self.known)
        try PolicyFolderWriter(folder: folder.path).apply(
            try AppInstallation.install(
                descriptor, sharedSecret: AppInstallation.newSharedSecret(), policy: try Self.compiled(folder)
            ).changes)

        let disable = try AppInstallation.setEnabled(false, key: "com.example.hello", policy: try Self.compiled(folder))
        #expect(disable.changes.map(\.file) == ["apps/com.example.hello.json"])
        #expect(disable.lifecycle?.paths["uninstalled"] == "/uninstalled")
        try PolicyFolderWriter(folder: folder.path).apply(disable.changes)
        #expect(try Self.compiled(folder).app(key: "com.example.hello")?.enabled == false)

        let uninstall = try AppInstallation.uninstall(key: "com.example.hello", policy: try Self.compiled(folder))
        #expect(
            uninstall.changes == [
                PolicyFileChange(file: "apps/com.example.hello.json", action: .remove),
                PolicyFileChange(file: "secrets/com.example.hello.secret", action: .remove),
            ])
        try PolicyFolderWriter(folder: folder.path).apply(uninstall.changes)
        let policy = try Self.compiled(folder)
        #expect(policy.app(key: "com.example.hello") == nil)
        #expect(policy.user(accountId: "addon_com.example.hello") != nil, "users.json keeps the app user")

        // A hand-written app's secret file is never removed, and an unknown key is an error.
        #expect(throws: AppInstallError.self) {
            try AppInstallation.uninstall(key: "com.example.nothing", policy: policy)
        }
        let demo = try AppInstallation.uninstall(key: "com.example.demo", policy: policy)
        #expect(demo.changes.map(\.file) == ["apps/demo.json"])
        #expect(demo.lifecycle == nil)
    }

    @Test("an app user name another user holds is refused before anything is written")
    func userNameTaken() throws {
        let folder = try PolicyFixtures.folder(files: [
            "users.json":
                #"{"users": [{"accountId": "x", "name": "ADDON_com.example.hello", "groups": ["staff"]}, {"accountId": "app-demo", "name": "d"}]}"#
        ])
        let descriptor = try ConnectDescriptor.parse(try Self.descriptor(), source: "d", knownScopes: Self.known)
        #expect(throws: AppInstallError.self) {
            try AppInstallation.install(
                descriptor, sharedSecret: AppInstallation.newSharedSecret(), policy: try Self.compiled(folder))
        }
    }

    @Test("writes are atomic: no temporary file is left, a replaced file keeps its mode, and undo puts files back")
    func atomicWritesAndUndo() throws {
        let folder = try PolicyFixtures.folder()
        let users = folder.path + "/users.json"
        chmod(users, 0o640)
        let original = try Data(contentsOf: URL(fileURLWithPath: users))
        let undo = try PolicyFolderWriter(folder: folder.path).apply([
            PolicyFileChange(file: "users.json", action: .write(Array("{}\n".utf8), mode: 0o644, private: false)),
            PolicyFileChange(file: "apps/new.json", action: .write(Array("{}\n".utf8), mode: 0o644, private: false)),
        ])
        #expect(try String(contentsOfFile: users, encoding: .utf8) == "{}\n")
        #expect(PolicyFolderWriter.mode(of: users) == 0o640)
        let names =
            try FileManager.default.contentsOfDirectory(atPath: folder.path)
            + FileManager.default.contentsOfDirectory(atPath: folder.path + "/apps")
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
        try undo.undo()
        #expect(try Data(contentsOf: URL(fileURLWithPath: users)) == original)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/apps/new.json"))

        // A change that fails undoes those before it.
        #expect(throws: PolicyWriteError.self) {
            try PolicyFolderWriter(folder: folder.path).apply([
                PolicyFileChange(file: "users.json", action: .write(Array("{}\n".utf8), mode: 0o644, private: false)),
                PolicyFileChange(file: "/proc/linkgate-cannot/x.json", action: .write([], mode: 0o644, private: false)),
            ])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: users)) == original)
    }

    @Test("an app file's connect member is checked like a descriptor's")
    func connectMember() throws {
        let folder = try PolicyFixtures.folder(files: [
            "apps/demo.json": """
            { "key": "com.example.demo", "sharedSecret": "fixture-shared-secret-at-least-32-bytes-long",
              "appUser": "app-demo",
              "connect": { "baseUrl": "http://hello.example.com", "lifecycle": { "installed": "x", "removed": "/r" } } }
            """
        ])
        let problems = PolicyFixtures.problems(folder.path).map(\.description)
        #expect(problems.contains { $0.hasPrefix("apps/demo.json: /connect/baseUrl: must use https") }, "\(problems)")
        #expect(
            problems.contains { $0.hasPrefix("apps/demo.json: /connect/lifecycle/removed: unknown key") }, "\(problems)"
        )
    }
}
