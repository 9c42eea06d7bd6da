import Foundation

/// Runs a short-lived program (`pg_ctl`, `mount`, `chattr`, …) and waits, without
/// holding a thread, until it exits; killed after `timeout` seconds, so a fault test
/// never waits for ever on a tool. Its output goes to a temporary file, not a pipe:
/// `pg_ctl start` leaves a server behind, which must not hold the test's pipe open.
enum Command {
    struct Result: CustomStringConvertible {
        let status: Int32
        /// Standard output and error together.
        let output: String

        var succeeded: Bool { status == 0 }
        var description: String { "exit \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    static func run(
        _ executable: String, _ arguments: [String], timeout: TimeInterval = 30, directory: String? = nil
    ) async throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lg-command-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw POSIXError(.EIO) }
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let exited = Watched(false)
        process.terminationHandler = { _ in exited.update(finishing: true) { $0 = true } }
        try process.run()
        var status = Int32(-1)
        var note = ""
        if await exited.wait(timeout: timeout, until: { $0 }) {
            status = process.terminationStatus
        } else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            _ = await exited.wait(timeout: 10) { $0 }
            note = "\n(killed after \(timeout) s)"
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Result(status: status, output: text + note)
    }

    /// Runs `executable` to its end on this thread, at most `timeout` seconds (then killed),
    /// its output dropped; its exit status, -1 if killed. For probes and clean-ups in `deinit`.
    static func runNow(
        _ executable: String, _ arguments: [String], timeout: TimeInterval = 20, directory: String? = nil
    ) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return -1
        }
        return process.terminationStatus
    }

    /// The first of `names` found in the usual program folders.
    static func find(_ names: String...) -> String? {
        for folder in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            for name in names where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }
}
