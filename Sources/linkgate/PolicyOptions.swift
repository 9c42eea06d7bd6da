import ArgumentParser
import Foundation
import Policy

/// `--policies DIR`, with `LINKGATE_POLICIES` as the fallback (docs/gateway.md §1).
struct PolicyOptions: ParsableArguments {
    @Option(
        name: .customLong("policies"),
        help: ArgumentHelp(
            "The policy folder (default: $LINKGATE_POLICIES).", valueName: "DIR"))
    var folder: String?

    /// The folder to read, or a usage error when neither the option nor the variable names one.
    func resolvedFolder() throws -> String {
        if let folder, !folder.isEmpty { return folder }
        if let folder = ProcessInfo.processInfo.environment["LINKGATE_POLICIES"], !folder.isEmpty { return folder }
        throw ValidationError("--policies DIR is required (or set LINKGATE_POLICIES)")
    }

    /// Loads and compiles the folder; on failure prints every problem as
    /// `FILE: /pointer: message` and fails with exit 1.
    func load() throws -> CompiledPolicy {
        let folder = try resolvedFolder()
        do {
            return try PolicyLoader.compile(folder: folder, environment: ProcessInfo.processInfo.environment)
        } catch {
            for problem in error.problems { print(problem.description) }
            let count = error.problems.count
            writeToStandardError("linkgate: \(folder): \(count) problem\(count == 1 ? "" : "s")\n")
            throw ExitCode.failure
        }
    }
}
