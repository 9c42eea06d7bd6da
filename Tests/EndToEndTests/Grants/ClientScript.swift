import Foundation

/// Runs a third-party client script and returns what it printed on stdout
/// (its stderr goes to the test's); the scripts bound their own waits. Waits
/// without holding a thread: async tests share the cooperative pool.
enum ClientScript {
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        let output = OutputBuffer.reading(pipe)
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                try? pipe.fileHandleForWriting.close()  // ends the reader
                continuation.resume(throwing: error)
            }
        }
        // The pipe may still hold the last bytes after exit: wait for its end.
        _ = await output.waitForEnd(timeout: 10)
        return output.text
    }
}
