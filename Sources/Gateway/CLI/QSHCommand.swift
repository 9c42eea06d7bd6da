import ArgumentParser
import JWT

/// `linkgate qsh`: the canonical request and query string hash of one request.
struct QSHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsh",
        abstract: "Print the canonical request and the qsh of a request, to chase a qsh mismatch."
    )

    @Option(help: "The HTTP method.")
    var method: String

    @Option(help: "The request's path and query as sent, e.g. '/rest/api/2/issue?fields=summary'.")
    var url: String

    @Option(help: "The site's base URL; its path is removed before hashing.")
    var baseURL: String?

    func run() throws {
        print("TODO")
    }
}

/// `linkgate jwt`: tools for looking at tokens.
struct JWTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwt",
        abstract: "Look inside JSON Web Tokens.",
        subcommands: []
    )
}
