import ArgumentParser
import JWT
import Policy

/// `linkgate jwt`: look inside tokens.
struct JWTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwt",
        abstract: "Look inside JSON Web Tokens.",
        subcommands: [JWTDecodeCommand.self]
    )
}

/// `linkgate jwt decode TOKEN`: header and claims, unverified.
struct JWTDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print a token's header and claims as JSON, without verifying anything."
    )

    @Argument(help: "A compact JWT (header.payload.signature).")
    var token: String

    func run() throws {
        writeToStandardError("linkgate: the token was NOT verified: its signature and claims are unchecked\n")
        do {
            let decoded = try UnverifiedJWT(decoding: token)
            let document: JSONValue = ["header": decoded.header, "claims": decoded.claims]
            print(document.serialized(.pretty))
        } catch {
            throw CommandFailure(message: "cannot decode the token: \(error.description)")
        }
    }
}
