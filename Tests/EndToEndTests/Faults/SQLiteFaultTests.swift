import Foundation
import Grants
import JWT
import Testing

/// The two ways a test breaks the SQLite store's file system and puts it back: a
/// small tmpfs mounted for the test and filled up (disk full), or the files made
/// immutable with `chattr +i` (read-only: the tests run as root, for whom a chmod
/// changes nothing). Each facility is probed once; a machine without it skips its test.
enum FileSystemFault: String, Sendable, CustomStringConvertible {
    case diskFull = "disk full"
    case readOnly = "read-only files"

    var description: String { rawValue }

    /// Whether a tmpfs can be mounted here (root with CAP_SYS_ADMIN, as `make test` runs in CI).
    static let canMountTmpfs: Bool = {
        guard let mount = Command.find("mount"), let umount = Command.find("umount") else { return false }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lg-probe-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil
        else { return false }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard Command.runNow(mount, ["-t", "tmpfs", "-o", "size=64k", "linkgate-probe", folder]) == 0 else {
            return false
        }
        return Command.runNow(umount, [folder]) == 0
    }()

    /// Whether `chattr +i` stops writes through a descriptor opened before (ext4 does; tmpfs does not).
    static let canFreezeFiles: Bool = {
        guard let chattr = Command.find("chattr") else { return false }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lg-probe-\(UUID().uuidString)").path
        let fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer {
            close(fd)
            _ = Command.runNow(chattr, ["-i", file])
            unlink(file)
        }
        guard Command.runNow(chattr, ["+i", file]) == 0 else { return false }
        let written = pwrite(fd, "x", 1, 0)
        return written < 0 && errno == EPERM
    }()
}

/// A tmpfs of `bytes` mounted on a new temporary folder; unmounted (lazily: the
/// gateway may still hold files there) and removed when released.
final class ScratchMount: @unchecked Sendable {
    let folder: String
    private let filler: String

    init(bytes: Int) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lg-fault-fs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        filler = folder + "/filler"
        let mounted = try await Command.run(
            try #require(Command.find("mount")),
            ["-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "linkgate-fault", folder])
        try #require(mounted.succeeded, "mount tmpfs: \(mounted)")
    }

    deinit {
        _ = Command.runNow(Command.find("umount") ?? "/bin/umount", ["-l", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Writes a filler file until the file system is full; the bytes it took.
    func fill() throws -> Int {
        let fd = open(filler, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x2e, count: 4096)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                total += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            guard written < 0 && errno == ENOSPC else { throw POSIXError(.EIO) }
            return total
        }
    }

    /// Frees what `fill()` took.
    func drain() { unlink(filler) }
}

/// Files made immutable (`chattr +i`) until `thaw()` or release.
final class FrozenFiles: @unchecked Sendable {
    private let paths: [String]
    private let chattr: String
    private var frozen = false

    init(_ paths: [String]) throws {
        self.paths = paths
        chattr = try #require(Command.find("chattr"))
    }

    deinit { thaw() }

    func freeze() throws {
        frozen = true
        let status = Command.runNow(chattr, ["+i"] + paths)
        try #require(status == 0, "chattr +i \(paths): exit \(status)")
    }

    func thaw() {
        guard frozen else { return }
        frozen = false
        _ = Command.runNow(chattr, ["-i"] + paths)
    }
}

extension Faults {
    /// The SQLite store's file system full, or its files read-only, under a
    /// running gateway. A token exchange (a write) gets a clear 503 (docs/grants.md,
    /// "The JWT bearer grant"); Connect JWT and Bearer requests (no store) and an API
    /// token over Basic (a read) keep working; once the condition is lifted the same
    /// gateway issues tokens again, the tokens issued before still have their rows,
    /// and `PRAGMA integrity_check` says ok.
    @Suite("The SQLite store's disk full or read-only")
    struct SQLiteTests {
        static let proxied = "/bulk/sqlite-fault"

        @Test(
            "disk full: a token exchange is a clear 503, reads go on, writes work again once space is freed, no corruption",
            .enabled(
                if: FileSystemFault.canMountTmpfs,
                "needs to mount a tmpfs (root with CAP_SYS_ADMIN, as make test in CI)"))
        func diskFull() async throws {
            let mount = try await ScratchMount(bytes: 16 << 20)
            try await Self.check(.diskFull, storePath: mount.folder + "/store/linkgate.sqlite") { _ in
                _ = try mount.fill()
            } lift: {
                mount.drain()
            }
        }

        @Test(
            "read-only files: a token exchange is a clear 503, reads go on, writes work again once writable, no corruption",
            .enabled(
                if: FileSystemFault.canFreezeFiles, "needs chattr +i to stop writes (root on ext4, as make test in CI)")
        )
        func readOnly() async throws {
            var frozen: FrozenFiles?
            try await Self.check(.readOnly, storePath: nil) { path in
                frozen = try FrozenFiles([path, path + "-wal"])
                try frozen?.freeze()
            } lift: {
                frozen?.thaw()
            }
        }

        /// A gateway on the store at `storePath` (nil: the policy copy's own), tokens issued,
        /// then the fault imposed on the store's file and lifted again, checking each step.
        static func check(
            _ fault: FileSystemFault, storePath: String?, impose: (String) throws -> Void, lift: () -> Void
        ) async throws {
            let fixture = try await GatewayFixture(store: storePath.map { "sqlite:" + $0 })
            defer { fixture.gateway.stop() }
            let path = storePath ?? fixture.folder.appendingPathComponent("var/linkgate.sqlite").path
            let storeArguments = storePath.map { ["--store", "sqlite:" + $0] } ?? []
            let created = try await LinkgateProcess.runAsync(
                [
                    "api-token", "create", "--policies", fixture.folder.path, "--user", ExampleSite.alice, "--label",
                    "faults",
                ]
                    + storeArguments)
            try #require(created.status == 0, "api-token create: \(created.standardError)")
            let basic = (
                "Authorization",
                "Basic "
                    + Data("alice:\(created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))".utf8)
                    .base64EncodedString()
            )
            var issued: [String] = []
            for _ in 0..<3 { issued.append(try await fixture.accessToken()) }

            try impose(path)
            var lifted = false
            defer { if !lifted { lift() } }
            let refused = try await fixture.exchange(try fixture.assertion())
            #expect(refused.status == 503, "\(fault): \(refused.status) \(refused.body)")
            #expect(refused.json["error"] as? String == "temporarily_unavailable", "\(refused.body)")
            #expect((refused.json["error_description"] as? String)?.contains("store") == true, "\(refused.body)")
            #expect(refused.headers["Cache-Control"].first == "no-store")
            let connect = try await fixture.sendSigned(.GET, Self.proxied)
            #expect(connect.status == 200, "\(fault): a Connect JWT request: \(connect.body)")
            let bearer = try await fixture.sendBearer(.GET, Self.proxied, token: issued[0])
            #expect(bearer.status == 200, "\(fault): a Bearer token issued before: \(bearer.body)")
            let readsStore = try await fixture.send(.GET, Self.proxied, headers: [basic])
            #expect(readsStore.status == 200, "\(fault): an API token over Basic (a read): \(readsStore.body)")

            lift()
            lifted = true
            let recovered = try await fixture.eventually(within: 10) {
                try await fixture.exchange(try fixture.assertion()).status == 200
            }
            #expect(recovered, "\(fault): the token endpoint still refused 10 s after the condition was lifted")
            issued.append(try await fixture.accessToken())
            for token in issued {
                let reply = try await fixture.sendBearer(.GET, Self.proxied, token: token)
                #expect(reply.status == 200, "\(reply.body)")
            }

            // No corruption: the tokens handed out have their rows, every replay row its token, and SQLite's own check.
            let store = try await Store.open(.sqlite(path: path))
            for token in issued {
                let id = try #require(try UnverifiedJWT(decoding: token).claims["jti"]?.stringValue)
                #expect(try await store.issuedToken(id: id) != nil, "the token \(id) was handed out but has no row")
            }
            let counts = try await store.counts()
            #expect(counts.orphanReplays == 0)
            #expect(counts.accessTokens == counts.spentAssertions)
            await store.close()
            #expect(try await Self.integrityCheck(path) == "ok")
        }

        /// `PRAGMA integrity_check` on the file, through Python's sqlite3 module.
        static func integrityCheck(_ path: String) async throws -> String {
            let python = try #require(FaultyUpstream.python ?? Command.find("python3"), "needs Python for sqlite3")
            let result = try await Command.run(
                python,
                [
                    "-c",
                    "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
                    path,
                ])
            try #require(result.succeeded, "integrity_check: \(result)")
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
