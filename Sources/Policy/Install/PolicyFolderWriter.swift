import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One change to a file of the policy folder: new contents, or removal.
public struct PolicyFileChange: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Write these bytes; `mode` for a new file (a replaced file keeps its own, unless `private`).
        case write([UInt8], mode: UInt16, private: Bool)
        case remove
    }

    /// Relative to the policy folder: `apps/hello.json`.
    public let file: String
    public let action: Action

    public init(file: String, action: Action) {
        self.file = file
        self.action = action
    }

    /// The bytes written, or nil for a removal.
    public var contents: [UInt8]? {
        if case .write(let bytes, _, _) = action { return bytes }
        return nil
    }
}

/// Why the policy folder could not be changed.
public struct PolicyWriteError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    init(_ message: String) { self.message = message }
}

/// Changes files of the policy folder so that a running gateway, which reloads
/// on every change (docs/gateway.md §2), never reads a half-written file: each
/// file is written to a temporary file beside it (named `.NAME.tmp-…`, which the
/// loader ignores) and renamed over it. A series of changes that fails halfway
/// is undone, so the folder is left as it was.
public struct PolicyFolderWriter: Sendable {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// What a file held before `apply` changed it.
    struct Previous {
        let file: String
        let contents: [UInt8]?
        let mode: UInt16
    }

    /// Applies `changes` in order. When one fails, those already applied are undone.
    /// - Returns: what undoes them all (used when a later step fails).
    @discardableResult
    public func apply(_ changes: [PolicyFileChange]) throws(PolicyWriteError) -> PolicyFolderUndo {
        var applied: [Previous] = []
        for change in changes {
            let path = resolve(change.file)
            let previous = Previous(
                file: change.file, contents: FileManager.default.contents(atPath: path).map { Array($0) },
                mode: Self.mode(of: path) ?? 0o644)
            do throws(PolicyWriteError) {
                switch change.action {
                case .write(let bytes, let mode, let isPrivate):
                    let effective = isPrivate ? 0o600 : (previous.contents == nil ? mode : previous.mode)
                    try Self.makeFolder(of: path, mode: isPrivate ? 0o700 : 0o755)
                    try Self.writeAtomically(bytes, to: path, mode: effective)
                case .remove:
                    if previous.contents != nil, unlink(path) != 0, errno != ENOENT {
                        throw PolicyWriteError("\(change.file) cannot be removed: \(Self.errorText())")
                    }
                }
            } catch {
                PolicyFolderUndo(writer: self, previous: applied).undoQuietly()
                throw error
            }
            applied.append(previous)
        }
        return PolicyFolderUndo(writer: self, previous: applied)
    }

    func resolve(_ file: String) -> String {
        file.hasPrefix("/") ? file : folder + "/" + file
    }

    /// Writes `bytes` to a temporary file in the same folder, flushes it to disk,
    /// then renames it over `path`: readers see the old file or the new one, whole.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt16) throws(PolicyWriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary =
            (directory.isEmpty ? "." : directory) + "/." + name + ".tmp-" + String(UInt32.random(in: 0...UInt32.max))
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw PolicyWriteError("\(path) cannot be written: \(errorText())") }
        var written = 0
        var failure: String?
        if fchmod(descriptor, mode_t(mode)) != 0 { failure = errorText() }
        while failure == nil, written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errorText()
            } else {
                written += count
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = errorText() }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = errorText() }
        if let failure {
            unlink(temporary)
            throw PolicyWriteError("\(path) cannot be written: \(failure)")
        }
        // The rename itself reaches the disk with the folder.
        let folder = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    static func mode(of path: String) -> UInt16? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt16(info.st_mode & 0o7777)
    }

    private static func makeFolder(of path: String, mode: UInt16) throws(PolicyWriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw PolicyWriteError("\(directory) cannot be created: \(error.localizedDescription)")
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// Puts back what a `PolicyFolderWriter.apply` changed, last change first.
public struct PolicyFolderUndo: Sendable {
    let writer: PolicyFolderWriter
    let previous: [PolicyFolderWriter.Previous]

    public func undo() throws(PolicyWriteError) {
        for entry in previous.reversed() {
            let path = writer.resolve(entry.file)
            if let contents = entry.contents {
                try PolicyFolderWriter.writeAtomically(contents, to: path, mode: entry.mode)
            } else if unlink(path) != 0, errno != ENOENT {
                throw PolicyWriteError("\(entry.file) cannot be removed: \(PolicyFolderWriter.errorText())")
            }
        }
    }

    func undoQuietly() { try? undo() }
}

extension PolicyFolderWriter.Previous: Sendable {}
