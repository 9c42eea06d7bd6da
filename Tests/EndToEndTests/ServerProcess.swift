import Foundation

/// A long-running process of ours (`linkgate serve`, `linkgate-echo`) on
/// 127.0.0.1: started, watched line by line, signalled, and always stopped.
final class ServerProcess: @unchecked Sendable {
    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    let process = Process()
    private let output: OutputBuffer
    /// The exit status, once the process has exited (set by its termination handler).
    private let exitStatus = Watched<Int32?>(nil)
    let name: String

    /// Starts `executable ARGUMENTS` with its standard output and error captured together.
    init(_ executable: URL, _ arguments: [String], name: String, environment: [String: String] = [:]) throws {
        self.name = name
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        output = OutputBuffer.reading(pipe)
        process.terminationHandler = { [exitStatus] process in
            let status = process.terminationStatus
            exitStatus.update(finishing: true) { $0 = status }
        }
        do {
            try process.run()
        } catch {
            try? pipe.fileHandleForWriting.close()  // ends the reader
            throw error
        }
    }

    deinit { stop() }

    /// `LINKGATE_PYTHON`, the interpreter `make test` sets up; nil outside it.
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]

    /// A Python server of a test's own (`script`, standard library only) and the
    /// port it printed after `marker` ("NAME: listening on http://127.0.0.1:PORT").
    static func python(script: String, name: String, marker: String) async throws -> (ServerProcess, Int) {
        guard let python else { throw StartupError(description: "\(name) needs LINKGATE_PYTHON") }
        let process = try ServerProcess(URL(fileURLWithPath: python), ["-u", "-c", script], name: name)
        return (process, try await process.port(after: marker))
    }

    var pid: Int32 { process.processIdentifier }
    var text: String { output.text }
    var isRunning: Bool { process.isRunning }

    /// Waits (at most `timeout` seconds) for a line containing `marker` and
    /// returns the rest of that line after it. The wait ends as soon as the line
    /// is printed, or when the process closes its output (it exited).
    func waitForLine(after marker: String, timeout: TimeInterval = 20) async throws -> String {
        _ = await output.wait(timeout: timeout) { Self.line(after: marker, in: $0) != nil }
        guard let rest = Self.line(after: marker, in: text) else {
            let why = output.hasEnded ? "exited before it printed" : "printed no"
            throw StartupError(
                description: "\(name) \(why) a \"\(marker)\" line within \(timeout) s; its output:\n\(text)")
        }
        return rest
    }

    /// The rest of the first whole line of `text` containing `marker`, after it.
    private static func line(after marker: String, in text: String) -> String? {
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...]
        return rest.firstIndex(of: "\n").map { String(rest[..<$0]) }
    }

    /// The port of a `… listener on http://127.0.0.1:PORT` line.
    func port(after marker: String) async throws -> Int {
        let address = try await waitForLine(after: marker)
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw StartupError(description: "\(name): no port in \"\(address)\"")
        }
        return port
    }

    /// Waits until `condition` holds on the output, checked at each write, at most `timeout` seconds.
    func waitForOutput(timeout: TimeInterval = 10, _ condition: @escaping @Sendable (String) -> Bool) async -> Bool {
        await output.wait(timeout: timeout, until: condition)
    }

    /// Waits for the process to exit by itself (its termination handler), at most `timeout` seconds;
    /// its status, or nil if it did not exit in time.
    func waitForExit(timeout: TimeInterval) async -> Int32? {
        _ = await exitStatus.wait(timeout: timeout) { $0 != nil }
        return exitStatus.current
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Peak and current resident memory, from /proc (kB).
    func memory() -> (peakKB: Int, currentKB: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func value(_ key: String) -> Int? {
            status.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
        }
        guard let peak = value("VmHWM:"), let current = value("VmRSS:") else { return nil }
        return (peak, current)
    }

    /// SIGKILL if still running, then wait (at most 10 s) until Foundation has
    /// reaped it. Not `waitUntilExit`: on Linux it spins on the calling thread's
    /// run loop, and called from a test's deinit it was seen to never return.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }
}

extension LinkgateProcess {
    /// `linkgate-echo`, beside the `linkgate` binary.
    static var echoBinary: URL {
        binary.deletingLastPathComponent().appendingPathComponent("linkgate-echo")
    }
}

/// An upstream of a test's own: a Python script (standard library only, run with
/// `LINKGATE_PYTHON`) that prints "NAME-WITH-DASHES: listening on
/// http://127.0.0.1:PORT" once it listens, stopped when the object goes.
class PythonUpstream {
    static let python = ServerProcess.python

    let process: ServerProcess
    let port: Int

    /// - Parameter name: how failures name it (`"stale upstream"`); its marker is
    ///   the name with dashes for spaces (`stale-upstream: listening on …`).
    init(script: String, name: String) async throws {
        (process, port) = try await ServerProcess.python(
            script: script, name: "\(name) (python)",
            marker: name.replacingOccurrences(of: " ", with: "-") + ": listening on http://127.0.0.1")
    }

    deinit { process.stop() }
}
