import ArgumentParser
import JWT
import Policy

/// `linkgate token`: make the tokens an app would send, for scripts and tests.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make tokens signed with an app's shared secret, as the app would.",
        subcommands: [ConnectTokenCommand.self, AssertionTokenCommand.self]
    )
}

/// `linkgate token connect`: a Connect JWT bound to one request.
struct ConnectTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Print a Connect JWT for one request, signed with the app's shared secret (HS256)."
    )

    @OptionGroup var policies: PolicyOptions

    @Option(help: "The app key (the token's iss).")
    var app: String

    @Option(help: "The HTTP method of the request.")
    var method: String

    @Option(help: ArgumentHelp("The request's path and query as it will be sent.", valueName: "PATH?QUERY"))
    var url: String

    @Option(help: ArgumentHelp("Seconds the token lives (default 180, at most connectJwtMax).", valueName: "SECONDS"))
    var ttl: Int64 = 180

    func run() throws {
        let policy = try policies.load()
        let maximum = Int64(policy.document.gateway.lifetimes.connectJwtMax)
        guard (1...maximum).contains(ttl) else {
            throw ValidationError("--ttl must be between 1 and \(maximum) seconds (connectJwtMax)")
        }
        guard let key = policy.connectKey(forApp: app) else {
            throw ValidationError(
                policy.app(key: app) == nil
                    ? "--app: no app has the key \(app)" : "--app: the app \(app) has no sharedSecret")
        }
        let target = RequestTarget(url)
        let signer = ConnectJWTSigner(issuer: app, key: key, basePath: policy.basePath)
        do {
            print(
                try signer.token(
                    method: method.uppercased(), rawPath: target.path, rawQuery: target.query, lifetime: ttl))
        } catch {
            throw ValidationError("--url: \(error.reason)")
        }
    }
}

/// `linkgate token assertion`: a JWT bearer assertion for the 2LOi grant (docs/protocols.md §3).
struct AssertionTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assertion",
        abstract: "Print a JWT bearer assertion (2LOi) for an app to impersonate a user.",
        discussion: """
            iss urn:atlassian:connect:clientid:<oauthClientId>, sub urn:atlassian:connect:useraccountid:<ACCOUNT_ID>, \
            tnt and aud from the site's baseUrl (aud <baseUrl>/oauth2/token), a random jti; HS256 with the app's shared secret.
            """
    )

    @OptionGroup var policies: PolicyOptions

    @Option(help: "The app key.")
    var app: String

    @Option(help: ArgumentHelp("The account id of the user to impersonate.", valueName: "ACCOUNT_ID"))
    var user: String

    @Option(help: ArgumentHelp("Seconds the assertion lives (default 60, at most assertionMax).", valueName: "SECONDS"))
    var ttl: Int64 = 60

    @Option(
        help: ArgumentHelp(
            "How many assertions to print, one a line, each with its own jti (for load tests).",
            valueName: "N"))
    var count: Int = 1

    func run() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be between 1 and 1000000") }
        let policy = try policies.load()
        let maximum = Int64(policy.document.gateway.lifetimes.assertionMax)
        guard (1...maximum).contains(ttl) else {
            throw ValidationError("--ttl must be between 1 and \(maximum) seconds (assertionMax)")
        }
        guard let appPolicy = policy.app(key: app), let key = policy.connectKey(forApp: app) else {
            throw ValidationError("--app: no app with a sharedSecret has the key \(app)")
        }
        guard let clientId = appPolicy.oauthClientId else {
            throw ValidationError("--app: the app \(app) has no oauthClientId, which names it in assertions")
        }
        guard policy.user(accountId: user) != nil else {
            throw ValidationError("--user: no user has the account id \(user)")
        }
        let baseURL = policy.document.gateway.baseUrl
        let now = UnixTime.now()
        let signer = JWTSigner(key: key)
        var lines = ""
        for _ in 0..<count {
            let claims = JSONObject([
                ("iss", .string("urn:atlassian:connect:clientid:\(clientId)")),
                ("sub", .string("urn:atlassian:connect:useraccountid:\(user)")),
                ("tnt", .string(baseURL)),
                ("aud", .string(baseURL + "/oauth2/token")),
                ("iat", .integer(now)),
                ("exp", .integer(now + ttl)),
                ("jti", .string(SecureRandom.identifier())),
            ])
            lines += try signer.sign(claims) + "\n"
        }
        print(lines, terminator: "")
    }
}
