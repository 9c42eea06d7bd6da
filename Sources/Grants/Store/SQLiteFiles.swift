import Foundation
import Logging

/// The SQLite store's files hold the access-token signing key and the hashes of
/// every credential issued (docs/grants.md, "The store"): they are private to the
/// gateway's user. A missing folder is created 0700 and the database 0600 (SQLite
/// gives its `-wal` and `-shm` files the database's mode); an existing database,
/// `-wal` or `-shm` that others may read is tightened to 0600, with a warning.
enum SQLiteFiles {
    static let fileMode: mode_t = 0o600
    static let folderMode: Int = 0o700

    static func prepare(path: String, logger: Logger) throws(StoreError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: folderMode])
            } catch {
                throw StoreError(
                    .unavailable, "the folder \(folder) of the SQLite store could not be created: \(error)")
            }
        } else if !folder.isEmpty, let mode = self.mode(of: folder), mode & 0o077 != 0 {
            logger.warning(
                "the folder of the SQLite store is open to other users; chmod 700 it",
                metadata: ["folder": "\(folder)", "mode": "\(String(mode, radix: 8))"])
        }
        let created = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, fileMode)
        if created >= 0 {
            close(created)
            return
        }
        for file in [path, path + "-wal", path + "-shm"] { try tighten(file, logger: logger) }
    }

    /// 0600 for an existing file that group or others may read or write.
    private static func tighten(_ file: String, logger: Logger) throws(StoreError) {
        guard let mode = mode(of: file), mode & 0o077 != 0 else { return }
        guard chmod(file, fileMode) == 0 else {
            throw StoreError(
                .unavailable,
                "\(file) is readable by other users (mode \(String(mode, radix: 8))) and cannot be made 0600")
        }
        logger.warning(
            "the SQLite store was readable by other users; made it 0600",
            metadata: ["file": "\(file)", "mode": "\(String(mode, radix: 8))"])
    }

    /// The permission bits of `path`, or nil when it does not exist.
    static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }
}
