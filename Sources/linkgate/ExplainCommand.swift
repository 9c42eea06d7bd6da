import ArgumentParser
import Policy
import Scopes

/// `linkgate explain`: how the gateway would decide one request.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print how a request would be decided: route, scopes, permission, grants and verdict.",
        discussion: """
            Give --app KEY for an app's credential (--auth jwt by default; jwt-bearer and \
            authorization-code need --user; oauth1 acts as --user, or as the 2-legged execute-as \
            user without one), or --user ACCOUNT_ID --auth basic. Exit 0 on ALLOW, 3 on DENY.
            """
    )

    /// The credential kinds of `--auth`, as docs/gateway.md §1 names them.
    enum AuthKind: String, ExpressibleByArgument, CaseIterable {
        case jwt
        case jwtBearer = "jwt-bearer"
        case authorizationCode = "authorization-code"
        case basic, oauth1
    }

    @OptionGroup var policies: PolicyOptions

    @Option(help: "The HTTP method.")
    var method: String

    @Option(help: ArgumentHelp("The request path, optionally with its query.", valueName: "PATH[?QUERY]"))
    var path: String

    @Option(help: "The app whose credential it is.")
    var app: String?

    @Option(help: ArgumentHelp("The acting user's account id.", valueName: "ACCOUNT_ID"))
    var user: String?

    @Option(help: "The kind of credential (default: jwt with --app, basic without).")
    var auth: AuthKind?

    @Option(
        help: ArgumentHelp("The token's scopes, space-separated (default: all the app may hold).", valueName: "\"A B\"")
    )
    var scopes: String?

    @Flag(
        name: .customLong("context-token"),
        help: "The Connect JWT is a context token (qsh \"context-qsh\"): allowed only on contextJwt routes.")
    var contextToken = false

    func validate() throws {
        guard path.hasPrefix("/") else { throw ValidationError("--path must start with /") }
        if contextToken, authKind != .jwt {
            throw ValidationError("--context-token is a Connect JWT (--auth jwt) only")
        }
        switch (app, authKind) {
        case (nil, .basic) where user == nil: throw ValidationError("give --app KEY, or --user ACCOUNT_ID --auth basic")
        case (nil, .basic): break
        case (nil, _): throw ValidationError("--auth \(authKind.rawValue) needs --app KEY")
        case (_, .basic): throw ValidationError("--auth basic acts as --user alone; leave out --app")
        case (_, .jwtBearer), (_, .authorizationCode):
            if user == nil { throw ValidationError("--auth \(authKind.rawValue) needs --user ACCOUNT_ID") }
        default: break
        }
    }

    func run() throws {
        let policy = try policies.load()
        let kind = credentialKind
        let requested = scopes.map { ScopeSet(parsing: $0) }
        var request: DecisionRequest
        do {
            let identity = try policy.identity(for: kind, appKey: app, accountId: user, requestedScopes: requested)
            request = DecisionRequest(principal: identity.principal, method: method, target: path)
        } catch {
            // The gateway refuses such a credential before deciding; the decision says so in its trace.
            request = DecisionRequest(credential: kind, appKey: app, user: nil, method: method, target: path)
            request.credentialRefusal = error.refusal
        }
        request.isContextToken = contextToken
        let decision = decide(request, policy: policy.decision)
        print(decision.explanation)
        if !decision.isAllowed { throw ExitCode(3) }
    }

    /// `--auth`, defaulting to a Connect JWT with `--app` and Basic without.
    private var authKind: AuthKind { auth ?? (app == nil ? .basic : .jwt) }

    private var credentialKind: CredentialKind {
        switch authKind {
        case .jwt: .connectJWT
        case .jwtBearer: .jwtBearer
        case .authorizationCode: .authorizationCode
        case .basic: .basic
        case .oauth1: user == nil ? .oauth1TwoLegged : .oauth1ThreeLegged
        }
    }
}
