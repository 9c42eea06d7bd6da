import ArgumentParser
import Policy

/// `linkgate check`: validate a policy folder without starting anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every policy file; print one line per problem (FILE: /json/pointer: message).",
        discussion: "Exit 0 and a one-line summary when the folder is valid, 1 when it is not. Never starts a server."
    )

    @OptionGroup var policies: PolicyOptions

    func run() throws {
        let policy = try policies.load()
        print("\(try policies.resolvedFolder()): OK: \(policy.document.summary)")
    }
}
