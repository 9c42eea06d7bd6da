import Foundation

/// Runs the real `linkgate` binary, as a user would.
struct LinkgateProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// The binary: `LINKGATE_BINARY`, else `linkgate` beside this test bundle.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["LINKGATE_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("linkgate")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        let fromTests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/linkgate")
        return fromTests
    }

    /// Runs `linkgate ARGUMENTS` and waits, without holding a thread, until it has
    /// exited and closed its output; after `timeout` seconds it is killed.
    /// - Parameter input: its standard input (none by default).
    static func runAsync(
        _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
        timeout: TimeInterval = 30
    ) async throws -> Result {
        let run = try Run(arguments, environment: environment, input: input)
        if await !run.done.wait(timeout: timeout, until: { $0 }) {
            run.kill()
            _ = await run.done.wait(timeout: 10) { $0 }
        }
        return run.result
    }

    /// One run of the binary: done once it has exited (its termination handler)
    /// and both its outputs have reached their end.
    private final class Run: @unchecked Sendable {
        let process = Process()
        let standardOutput: OutputBuffer
        let standardError: OutputBuffer
        let ended = DispatchGroup()
        let done = Watched(false)

        init(_ arguments: [String], environment: [String: String], input: Data? = nil) throws {
            process.executableURL = binary
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let standardInput = input.map { _ in Pipe() }
            if let standardInput {
                // Close-on-exec, as the outputs (`OutputBuffer.reading`): no other child may hold its input open.
                for fd in [
                    standardInput.fileHandleForReading.fileDescriptor,
                    standardInput.fileHandleForWriting.fileDescriptor,
                ] {
                    _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
                }
            }
            process.standardInput = standardInput ?? FileHandle.nullDevice
            let outputs = (Pipe(), Pipe())
            process.standardOutput = outputs.0
            process.standardError = outputs.1
            ended.enter()
            ended.enter()
            ended.enter()
            standardOutput = OutputBuffer.reading(outputs.0) { [ended] in ended.leave() }
            standardError = OutputBuffer.reading(outputs.1) { [ended] in ended.leave() }
            process.terminationHandler = { [ended] _ in ended.leave() }
            do {
                try process.run()
            } catch {
                // Ends the readers, and balances the group: a group freed while entered is a libdispatch crash.
                try? outputs.0.fileHandleForWriting.close()
                try? outputs.1.fileHandleForWriting.close()
                ended.leave()
                throw error
            }
            if let standardInput, let input {
                standardInput.fileHandleForWriting.write(input)
                try? standardInput.fileHandleForWriting.close()
            }
            ended.notify(queue: .global()) { [done] in done.update(finishing: true) { $0 = true } }
        }

        func kill() { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }

        var result: Result {
            Result(
                status: process.isRunning ? -1 : process.terminationStatus, standardOutput: standardOutput.text,
                standardError: standardError.text)
        }
    }
}
