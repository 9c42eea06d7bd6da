import Foundation
import Logging
import Testing

@testable import Grants

@Suite("The SQLite store's files are private to the gateway's user")
struct SQLiteFilesTests {
    static func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.path
    }

    @Test("a new store is created 0600 in a new 0700 folder, and its -wal and -shm follow")
    func created() async throws {
        let root = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/var/linkgate.sqlite"
        let store = try await Store.open(.sqlite(path: path))
        try await store.ping()
        #expect(SQLiteFiles.mode(of: root + "/var") == 0o700)
        #expect(SQLiteFiles.mode(of: path) == 0o600)
        for companion in [path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: companion) {
            #expect(SQLiteFiles.mode(of: companion) == 0o600, "\(companion)")
        }
        await store.close()
    }

    @Test("an existing store others may read is tightened to 0600")
    func tightened() async throws {
        let root = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/linkgate.sqlite"
        let first = try await Store.open(.sqlite(path: path))
        await first.close()
        chmod(path, 0o644)
        let again = try await Store.open(.sqlite(path: path))
        #expect(SQLiteFiles.mode(of: path) == 0o600)
        await again.close()
    }
}
