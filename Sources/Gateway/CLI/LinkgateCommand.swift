import ArgumentParser

/// The `linkgate` command line (CONTRACT §1).
public struct LinkgateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "linkgate",
        abstract: "An authorization gateway for Connect JWTs, OAuth 2.0 and OAuth 1.0a application links.",
        subcommands: [
            QSHCommand.self,
            JWTCommand.self,
        ]
    )

    public init() {}
}
