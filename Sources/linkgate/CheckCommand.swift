import ArgumentParser
import Policy

/// `linkgate check`: validate a policy folder without starting anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every policy file; print one line per problem (FILE: /json/pointer: message).",
        discussion: """
            Exit 0 and a one-line summary when the folder is valid, 1 when it is not. Never starts a server. \
            A secret or key file other users may read is a warning on standard error (the exit status stays 0).
            """
    )

    @OptionGroup var policies: PolicyOptions

    func run() throws {
        let policy = try policies.load()
        let folder = try policies.resolvedFolder()
        for file in policy.document.privateFilesOpenToOthers(folder: folder) {
            writeToStandardError(
                "linkgate: warning: \(file.path) holds a secret or key and other users may read it "
                    + "(mode \(String(file.mode, radix: 8))); chmod 600 it\n")
        }
        print("\(folder): OK: \(policy.document.summary)")
    }
}
