import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `linkgate` command line (docs/gateway.md §1).
struct LinkgateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linkgate",
        abstract: "An authorization gateway for Connect JWTs, OAuth 2.0 and OAuth 1.0a application links.",
        subcommands: [
            CheckCommand.self,
            ExplainCommand.self,
            QSHCommand.self,
            JWTCommand.self,
            TokenCommand.self,
            ServeCommand.self,
            RevokeCommand.self,
            AuditCommand.self,
            HashPasswordCommand.self,
            APITokenCommand.self,
            AppCommand.self,
        ]
    )

    init() {}

    /// Parses the process arguments, runs the command and exits, with the exit
    /// codes of docs/gateway.md §1: 0 success, 1 failure, 2 bad arguments (ArgumentParser
    /// would use 64), and whatever a command throws as `ExitCode` (3 for DENY).
    static func runFromCommandLine() async -> Never {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            terminate(0)
        } catch {
            if exitCode(for: error) == .validationFailure {
                writeToStandardError(fullMessage(for: error) + "\n")
                terminate(2)
            }
            self.exit(withError: error)
        }
    }
}

/// A failure a user can act on: printed as `linkgate: MESSAGE`, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Ends the process; `exit` alone would name ParsableCommand's method here.
func terminate(_ status: Int32) -> Never {
    exit(status)
}

func writeToStandardError(_ text: String) { writeAtOnce(text, to: 2) }

/// Writes one line to standard output at once: the startup lines scripts and tests wait for.
func writeToStandardOutput(_ line: String) { writeAtOnce(line + "\n", to: 1) }

/// One unbuffered write, so lines from several threads never interleave.
private func writeAtOnce(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress, $0.count) }
}
