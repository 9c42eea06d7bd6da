import Foundation
import Logging
import Policy
import ServiceLifecycle
import UnixSignals

/// Reloads the policy folder on SIGHUP and when any file in it changes
/// (polled every `pollInterval`), and the TLS listeners' certificates with it
/// (docs/tls.md §1): the new policy is loaded and compiled off
/// the request path, then swapped in whole. A policy that fails to load is
/// logged with the `check` messages and counted; the old one stays in force.
/// Every outcome is one log line with the metadata `generation` (the policy in
/// force after it) and `result` (`success` or `failure`), docs/gateway.md §2.
actor PolicyReloader: Service {
    let folder: String
    let environment: [String: String]
    let live: LivePolicy
    let metrics: GatewayMetrics?
    let logger: Logger
    let pollInterval: Duration
    /// Files under the folder that are not policy: the SQLite store and its journals.
    let ignored: Set<String>
    /// The TLS listeners' certificates, looked at on every poll and on SIGHUP (docs/tls.md §1).
    let certificates: CertificateReloader?
    private var fingerprint: FolderFingerprint

    /// - Parameter ignoring: files that change without the policy changing (the SQLite store, when it
    ///   lives in the policy folder, and its `-wal`, `-shm` and `-journal` files).
    init(
        folder: String, environment: [String: String], live: LivePolicy, metrics: GatewayMetrics?, logger: Logger,
        pollInterval: Duration = .milliseconds(500), ignoring: [String] = [], certificates: CertificateReloader? = nil
    ) {
        self.folder = folder
        self.environment = environment
        self.live = live
        self.metrics = metrics
        self.logger = logger
        self.pollInterval = pollInterval
        self.certificates = certificates
        self.ignored = FolderFingerprint.standardized(
            ignoring.flatMap { [$0, $0 + "-wal", $0 + "-shm", $0 + "-journal"] })
        self.fingerprint = FolderFingerprint(folder: folder, ignoring: ignored)
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // SIGHUP is trapped from here on: before this line it would end the process.
        logger.notice(
            "policy reloader started: SIGHUP or a change under the policy folder reloads",
            metadata: ["generation": "\(live.snapshot.generation)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() { await self.hangUp() }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: self.pollInterval)
                    await self.reloadIfChanged()
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// SIGHUP: the policy, then every TLS certificate, loaded again.
    private func hangUp() {
        reload(because: "SIGHUP")
        certificates?.check(live.snapshot.policy.document.gateway, force: true)
    }

    private func reloadIfChanged() {
        let current = FolderFingerprint(folder: folder, ignoring: ignored)
        if current != fingerprint { reload(because: "a policy file changed", fingerprint: current) }
        certificates?.check(live.snapshot.policy.document.gateway, force: false)
    }

    /// Loads, compiles and swaps in the folder's policy, or keeps the old one.
    @discardableResult
    func reload(because cause: String, fingerprint current: FolderFingerprint? = nil) -> Bool {
        fingerprint = current ?? FolderFingerprint(folder: folder, ignoring: ignored)
        let generation = live.snapshot.generation + 1
        // A failure leaves the generation in force as it was.
        let failure: Logger.Metadata = ["generation": "\(live.snapshot.generation)", "result": "failure"]
        do {
            let compiled = try PolicyLoader.compile(folder: folder, environment: environment)
            let snapshot = try live.snapshot.next(compiled)
            live.replace(with: snapshot)
            metrics?.reload(succeeded: true)
            logger.notice(
                "policy reloaded (\(cause)): generation \(generation), \(snapshot.summary)",
                metadata: ["generation": "\(generation)", "result": "success"])
            return true
        } catch let error as PolicyLoadError {
            metrics?.reload(succeeded: false)
            logger.error("policy reload failed (\(cause)); the previous policy stays in force", metadata: failure)
            for problem in error.problems { logger.error("\(problem)") }
        } catch {
            metrics?.reload(succeeded: false)
            logger.error(
                "policy reload failed (\(cause)): \(error); the previous policy stays in force", metadata: failure)
        }
        return false
    }
}

/// What the reloader compares to notice a change: every regular file under the
/// folder (following symbolic links, as secrets mounted by Kubernetes are), by
/// path, size, inode and modification time to the nanosecond.
struct FolderFingerprint: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        let path: String
        let size: Int64
        let inode: UInt64
        let modifiedSeconds: Int
        let modifiedNanoseconds: Int
    }

    let entries: [Entry]

    /// - Parameter ignoring: standardized absolute paths to leave out.
    init(folder: String, ignoring: Set<String> = []) {
        var entries: [Entry] = []
        let paths = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
        for relative in paths.sorted() {
            let path = folder + "/" + relative
            if !ignoring.isEmpty, ignoring.contains(URL(fileURLWithPath: path).standardized.path) { continue }
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            entries.append(
                Entry(
                    path: relative, size: Int64(info.st_size), inode: UInt64(info.st_ino),
                    modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec))
        }
        self.entries = entries
    }

    static func standardized(_ paths: [String]) -> Set<String> {
        Set(paths.map { URL(fileURLWithPath: $0).standardized.path })
    }
}
