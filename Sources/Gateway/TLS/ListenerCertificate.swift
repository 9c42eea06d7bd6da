import Foundation
import NIOSSL
import Policy
import Synchronization

/// A TLS listener's server context (docs/tls.md §1): built from the certificate
/// and key files at start, built again when the files change or on SIGHUP, and
/// swapped in for the connections that come after. Open connections keep the
/// context they were accepted with. Files that fail to load leave the old
/// context in force.
final class ListenerCertificate: Sendable {
    /// What a reload attempt did.
    enum Reload: Equatable {
        case unchanged
        case reloaded
        case failed(String)
    }

    let listener: TLSListener
    private let state: Mutex<State>

    private struct State {
        var context: NIOSSLContext
        var files: ListenerTLSFiles
        /// The files as last looked at, loaded or not: a failed load is not tried again until they change.
        var stamp: FileStamp
    }

    /// - Throws: `TLSFilesError` when the files do not make a server context.
    init(listener: TLSListener, files: ListenerTLSFiles) throws(TLSFilesError) {
        let stamp = FileStamp(paths: [files.certificatePath, files.keyPath])
        let context = try Self.context(for: files)
        self.listener = listener
        self.state = Mutex(State(context: context, files: files, stamp: stamp))
    }

    /// The context new connections are accepted with.
    var context: NIOSSLContext { state.withLock { $0.context } }

    /// Builds a new context when `files` differ from the ones in force, or their
    /// contents changed since they were last looked at; `force` (SIGHUP) tries
    /// again even when nothing seems to have changed.
    func reload(_ files: ListenerTLSFiles, force: Bool) -> Reload {
        let stamp = FileStamp(paths: [files.certificatePath, files.keyPath])
        let isUnchanged = state.withLock { state in
            let same = state.files == files && state.stamp == stamp
            state.stamp = stamp
            return same
        }
        if isUnchanged && !force { return .unchanged }
        do {
            let context = try Self.context(for: files)
            state.withLock { state in
                state.context = context
                state.files = files
            }
            return .reloaded
        } catch {
            return .failed(error.message)
        }
    }

    /// A TLS 1.2 and 1.3 server context for the files' certificate chain and key.
    static func context(for files: ListenerTLSFiles) throws(TLSFilesError) -> NIOSSLContext {
        let chain = try TLSFilesError.loadingCertificates(files.certificateFile, path: files.certificatePath)
        let key = try TLSFilesError.loadingKey(files.keyFile, path: files.keyPath)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError(
                "\(files.certificateFile) and \(files.keyFile) do not make a TLS server context "
                    + "(does the key belong to the certificate?): \(error)")
        }
    }
}

/// What makes a set of files look changed: each one's size, inode and
/// modification time to the nanosecond (a file that cannot be read counts too).
struct FileStamp: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        let size: Int64
        let inode: UInt64
        let seconds: Int
        let nanoseconds: Int
    }

    let entries: [Entry?]

    init(paths: [String]) {
        entries = paths.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Entry(
                size: Int64(info.st_size), inode: UInt64(info.st_ino), seconds: info.st_mtim.tv_sec,
                nanoseconds: info.st_mtim.tv_nsec)
        }
    }
}

/// A certificate, key or CA file that cannot be used, named as the policy names it.
struct TLSFilesError: Error, Sendable, CustomStringConvertible {
    let message: String

    init(_ message: String) { self.message = message }

    var description: String { message }

    /// Every certificate of a PEM file (a chain: the leaf first), at least one.
    static func loadingCertificates(_ written: String, path: String) throws(TLSFilesError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSFilesError("cannot read the certificates of \(written): \(error)")
        }
        guard !certificates.isEmpty else { throw TLSFilesError("\(written) holds no PEM certificate") }
        return certificates
    }

    /// The PEM private key of a file.
    static func loadingKey(_ written: String, path: String) throws(TLSFilesError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSFilesError("cannot read the private key of \(written): \(error)")
        }
    }
}
