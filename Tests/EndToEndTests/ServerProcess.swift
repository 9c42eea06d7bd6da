import Foundation

/// A long-running process of ours (`linkgate serve`, `linkgate-echo`) on
/// 127.0.0.1: started, watched line by line, signalled, and always stopped.
final class ServerProcess: @unchecked Sendable {
    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    let process = Process()
    private let output = OutputBuffer()
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
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                output.append(data)
            }
        }
        try process.run()
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }
    var text: String { output.text }
    var isRunning: Bool { process.isRunning }

    /// Waits (at most `timeout` seconds) for a line containing `marker` and
    /// returns the rest of that line after it.
    func waitForLine(after marker: String, timeout: TimeInterval = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let current = text
            if let range = current.range(of: marker) {
                let rest = current[range.upperBound...]
                if let end = rest.firstIndex(of: "\n") { return String(rest[..<end]) }
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw StartupError(description: "\(name) printed no \"\(marker)\" line within \(timeout) s; its output:\n\(text)")
    }

    /// `waitForLine`, sleeping without holding a thread: async tests share the
    /// cooperative pool (one thread per core), which a blocking wait would starve.
    func waitForLineAsync(after marker: String, timeout: TimeInterval = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let current = text
            if let range = current.range(of: marker) {
                let rest = current[range.upperBound...]
                if let end = rest.firstIndex(of: "\n") { return String(rest[..<end]) }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw StartupError(description: "\(name) printed no \"\(marker)\" line within \(timeout) s; its output:\n\(text)")
    }

    /// The port of a `… listener on http://127.0.0.1:PORT` line, waited for without blocking a thread.
    func portAsync(after marker: String) async throws -> Int {
        let address = try await waitForLineAsync(after: marker)
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw StartupError(description: "\(name): no port in \"\(address)\"")
        }
        return port
    }

    /// Waits for the process to exit by itself without blocking a thread; nil if it did not in time.
    func waitForExitAsync(timeout: TimeInterval) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The port of a `… listener on http://127.0.0.1:PORT` line.
    func port(after marker: String) throws -> Int {
        let address = try waitForLine(after: marker)
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw StartupError(description: "\(name): no port in \"\(address)\"")
        }
        return port
    }

    /// Waits until `condition` holds on the output, at most `timeout` seconds.
    func waitForOutput(timeout: TimeInterval = 10, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(text) { return true }
            usleep(20_000)
        }
        return condition(text)
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit by itself, at most `timeout` seconds; nil if it did not.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

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

    /// SIGKILL if still running, then reap.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension LinkgateProcess {
    /// `linkgate-echo`, beside the `linkgate` binary.
    static var echoBinary: URL {
        binary.deletingLastPathComponent().appendingPathComponent("linkgate-echo")
    }
}

/// Everything a process printed so far, appended from the pipe's reader thread.
final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) { lock.withLock { data.append(more) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
