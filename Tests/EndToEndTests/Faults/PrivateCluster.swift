import Foundation
import Testing

/// A small PostgreSQL cluster of one test's own, which it may stop and start
/// again without touching the shared cluster of `scripts/with-postgres.sh`: the
/// same server binaries, a temporary folder under /tmp, 127.0.0.1 on a port the
/// system had free, trust authentication for the superuser `linkgate`. As root
/// the programs run as the `postgres` user (the server refuses root), through
/// `setpriv`, which execs in place: the server is our own child, signalled
/// directly. The server runs in the foreground (`postgres`, not `pg_ctl start`,
/// whose server would inherit the descriptor Foundation watches to see a child
/// exit); every wait on it is bounded.
final class PrivateCluster: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The server's bin folder: the shared cluster's (`LINKGATE_TEST_POSTGRES_BIN`),
    /// else the newest under /usr/lib/postgresql; nil when there is none.
    static let bin: String? = {
        let manager = FileManager.default
        func usable(_ folder: String) -> Bool {
            manager.isExecutableFile(atPath: folder + "/initdb")
                && manager.isExecutableFile(atPath: folder + "/postgres")
        }
        if let folder = ProcessInfo.processInfo.environment["LINKGATE_TEST_POSTGRES_BIN"], usable(folder) {
            return folder
        }
        let versions = (try? manager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .map { "/usr/lib/postgresql/\($0)/bin" }.last(where: usable)
    }()

    /// Whether a private cluster can be made here: the server binaries, and as root the
    /// `postgres` user and `setpriv`.
    static var isAvailable: Bool {
        guard bin != nil else { return false }
        return getuid() != 0 || (getpwnam("postgres") != nil && Command.find("setpriv") != nil)
    }

    /// The server's marker, once it accepts connections (after crash recovery too).
    static let readyLine = "database system is ready to accept connections"

    let folder: String
    let port: Int
    private let bin: String
    private var server: ServerProcess?

    var url: String { "postgres://linkgate@127.0.0.1:\(port)/linkgate?sslmode=disable" }
    private var data: String { folder + "/data" }

    /// initdb, start, and a `linkgate` database.
    static func start() async throws -> PrivateCluster {
        guard let bin else { throw Failure(description: "no PostgreSQL server binaries") }
        var template = Array("/tmp/lg-fault-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        let folder = String(cString: made)
        let cluster = PrivateCluster(folder: folder, port: try restartablePort(), bin: bin)
        if getuid() == 0 {
            guard let user = getpwnam("postgres"), chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw Failure(description: "could not give \(folder) to the postgres user")
            }
        }
        let (program, arguments) = cluster.asOwner(
            "initdb", ["-D", cluster.data, "--auth=trust", "-U", "linkgate", "--encoding=UTF8", "--locale=C"])
        let initdb = try await Command.run(program, arguments, timeout: 120, directory: folder)
        guard initdb.succeeded else { throw Failure(description: "initdb: \(initdb)") }
        try await cluster.startServer()
        let createdb = try await Command.run(
            bin + "/createdb", ["-h", "127.0.0.1", "-p", String(cluster.port), "-U", "linkgate", "linkgate"])
        guard createdb.succeeded else { throw Failure(description: "createdb: \(createdb)") }
        return cluster
    }

    /// A free port below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`).
    /// The server gives its port up while stopped; a port of that range could meanwhile
    /// become the local end of some outgoing connection (another test's, or one of the
    /// gateway's own reconnects to this very port, which on loopback may connect to
    /// itself), and the restart would fail with "Address already in use". Ports below
    /// the range are only ever taken by an explicit bind.
    static func restartablePort() throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let lowest = range?.first ?? 32768
        // Ports below 1024 need privileges; a range starting that low leaves no room below it.
        let below = (lowest - 12000)..<lowest
        guard below.lowerBound >= 1024 else { return try GatewayFixture.closedPort() }
        for _ in 0..<200 {
            if let port = GatewayFixture.bound(port: Int.random(in: below)) { return port }
        }
        throw Failure(description: "no free port below the ephemeral range (\(lowest)) after 200 tries")
    }

    private init(folder: String, port: Int, bin: String) {
        self.folder = folder
        self.port = port
        self.bin = bin
    }

    deinit {
        // The server must not outlive the test: an immediate shutdown, then SIGKILL if it lingers.
        if let server {
            server.signal(SIGQUIT)
            let deadline = Date().addingTimeInterval(10)
            while server.isRunning, Date() < deadline { usleep(10_000) }
            server.stop()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Starts the server (again) on the same port and data, waiting until it accepts connections.
    func startServer() async throws {
        let (program, arguments) = asOwner(
            "postgres", ["-D", data, "-h", "127.0.0.1", "-p", String(port), "-k", folder, "-c", "fsync=on"])
        let server = try ServerProcess(URL(fileURLWithPath: program), arguments, name: "postgres (private cluster)")
        self.server = server
        _ = try await server.waitForLine(after: Self.readyLine, timeout: 60)
    }

    /// Stops the server: `immediate` (SIGQUIT) is a crash, no checkpoint and every
    /// connection cut; otherwise a fast shutdown (SIGINT). Waits until it has exited.
    func stopServer(immediate: Bool = true) async throws {
        guard let server else { throw Failure(description: "the server is not running") }
        server.signal(immediate ? SIGQUIT : SIGINT)
        guard await server.waitForExit(timeout: 30) != nil else {
            server.stop()
            throw Failure(description: "postgres did not stop within 30 s; its output:\n\(server.text.suffix(3000))")
        }
        self.server = nil
    }

    /// One of the server's programs, run as the user that owns the cluster.
    private func asOwner(_ program: String, _ arguments: [String]) -> (String, [String]) {
        guard getuid() == 0, let setpriv = Command.find("setpriv") else { return (bin + "/" + program, arguments) }
        return (
            setpriv, ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", bin + "/" + program] + arguments
        )
    }
}
