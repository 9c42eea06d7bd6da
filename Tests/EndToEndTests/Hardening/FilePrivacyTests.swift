import Foundation
import Testing

/// The store holds the access-token signing key; secret files hold shared secrets:
/// other users of the machine must not read them (docs/grants.md, "The store";
/// docs/policies.md §2).
@Suite("Hardening: the store and secret files are private")
struct FilePrivacyTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    @Test("serve creates the SQLite store 0600 in a 0700 folder, its -wal too")
    func storeIsPrivate() async throws {
        let fixture = try await GatewayFixture(.sqlite)
        let token = try await fixture.accessToken()  // a write, so the -wal exists
        #expect(!token.isEmpty)
        let store = fixture.folder.appendingPathComponent("var/linkgate.sqlite").path
        #expect(Self.mode(fixture.folder.appendingPathComponent("var").path) == 0o700)
        #expect(Self.mode(store) == 0o600)
        #expect(Self.mode(store + "-wal") == 0o600)
    }

    @Test("check warns about a secret file others may read, and not once it is 0600")
    func checkWarnsAboutSecretFiles() async throws {
        let fixture = try await GatewayFixture(.sqlite) { folder in
            let secrets = folder.appendingPathComponent("secrets")
            try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
            let file = secrets.appendingPathComponent("reports.secret")
            try Data("a-shared-secret-of-at-least-32-bytes-0123456789".utf8).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
            try GatewayFixture.editJSON(folder.appendingPathComponent("apps/reports.json")) {
                $0["sharedSecret"] = ["file": "secrets/reports.secret"]
            }
        }
        let open = try await LinkgateProcess.runAsync(["check", "--policies", fixture.folder.path])
        #expect(open.status == 0)
        #expect(open.standardError.contains("warning: secrets/reports.secret"), "\(open.standardError)")
        #expect(!open.standardError.contains("a-shared-secret"), "never the secret itself")
        let file = fixture.folder.appendingPathComponent("secrets/reports.secret").path
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let closed = try await LinkgateProcess.runAsync(["check", "--policies", fixture.folder.path])
        #expect(closed.status == 0 && !closed.standardError.contains("warning"), "\(closed.standardError)")
    }
}
