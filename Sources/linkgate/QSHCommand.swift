import ArgumentParser
import JWT
import Policy

/// `linkgate qsh`: the canonical request and query string hash of one request.
struct QSHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsh",
        abstract: "Print the canonical request and its qsh, to chase a qsh mismatch.",
        discussion: """
            Prints two lines: the canonical request (METHOD&PATH&QUERY) and the \
            lower-case hex SHA-256 that a Connect JWT's qsh claim must hold.
            """
    )

    @Option(help: "The HTTP method.")
    var method: String

    @Option(
        help: ArgumentHelp(
            "The request's path and query as sent, e.g. '/rest/api/2/issue?fields=summary'.",
            valueName: "PATH?QUERY"))
    var url: String

    @Option(name: .customLong("base-url"), help: "The site's base URL; its path is removed before hashing.")
    var baseURL: String?

    func validate() throws {
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }) else {
            throw ValidationError("--method must be an HTTP method such as GET or POST")
        }
    }

    func run() throws {
        let target = RequestTarget(url)
        let basePath = baseURL.map(CanonicalRequest.basePath(ofBaseURL:)) ?? ""
        do {
            let canonical = try CanonicalRequest(
                method: method, rawPath: target.path, rawQuery: target.query,
                basePath: basePath)
            print(canonical.description)
            print(canonical.queryStringHash)
        } catch {
            throw ValidationError("--url: \(error.reason)")
        }
    }
}

/// The path and query of a request target, given as `PATH?QUERY` or a whole URL.
struct RequestTarget {
    let path: Substring
    let query: Substring

    init(_ url: String) {
        var rest = Substring(url)
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let afterScheme = rest[rest.index(colon, offsetBy: 3)...]
            rest = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterScheme[$0...] } ?? ""
        }
        if let question = rest.firstIndex(of: "?") {
            path = rest[..<question]
            query = rest[rest.index(after: question)...]
        } else {
            path = rest
            query = ""
        }
    }
}
