import ArgumentParser
import Foundation
import Gateway
import Grants
import Logging
import Policy

/// `linkgate serve`: run the gateway until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: the proxy on --listen, health and metrics on --admin-listen.",
        discussion: """
            Runs until SIGTERM or SIGINT, then stops accepting and drains in-flight requests for at most 10 s.
            SIGHUP, or a change to any file in the policy folder, reloads the policies atomically; a policy that \
            fails to load is logged with the `check` messages and the previous one stays in force.
            Port 0 picks a free port; the startup lines print the real ones.
            """
    )

    @OptionGroup var policies: PolicyOptions

    @Option(
        help: ArgumentHelp(
            "The main listener (default: $LINKGATE_LISTEN, else gateway.json's listen).", valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        name: .customLong("admin-listen"),
        help: ArgumentHelp(
            "The admin listener: /healthz, /readyz, /metrics (default: $LINKGATE_ADMIN_LISTEN, else gateway.json's adminListen).",
            valueName: "HOST:PORT"))
    var adminListen: String?

    @Option(
        name: .customLong("authz-listen"),
        help: ArgumentHelp(
            "The authz listener for nginx auth_request, Envoy ext_authz and Traefik forwardAuth (default: $LINKGATE_AUTHZ_LISTEN, else gateway.json's authzListen; absent: off).",
            valueName: "HOST:PORT"))
    var authzListen: String?

    @Option(
        help: ArgumentHelp(
            "The store, sqlite:PATH or postgres://user:pass@host:port/db (default: $LINKGATE_STORE, else gateway.json's store).",
            valueName: "URL"))
    var store: String?

    @Option(
        name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: info).")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        for (name, value) in [("--listen", listen), ("--admin-listen", adminListen), ("--authz-listen", authzListen)] {
            if let value { _ = try parsedAddress(value, option: name) }
        }
        if let store { try StoreURL.validate(store) }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let environment = ProcessInfo.processInfo.environment
        let folder = try policies.resolvedFolder()
        let policy = try policies.load()
        let settings = policy.document.gateway
        var configuration = GatewayServer.Configuration(
            folder: folder,
            listen: try parsedAddress(listen ?? environment["LINKGATE_LISTEN"] ?? settings.listen, option: "--listen"),
            adminListen: try parsedAddress(
                adminListen ?? environment["LINKGATE_ADMIN_LISTEN"] ?? settings.adminListen, option: "--admin-listen"),
            environment: environment,
            events: { event in writeToStandardOutput(event.line) })
        configuration.logLevel = level
        if let authz = authzListen ?? environment["LINKGATE_AUTHZ_LISTEN"] ?? settings.authzListen {
            configuration.authzListen = try parsedAddress(authz, option: "--authz-listen")
        }
        let store = try await StoreURL.open(store ?? environment["LINKGATE_STORE"] ?? settings.store, folder: folder)
        do {
            try await GatewayServer.serve(configuration, policy: policy, store: store)
        } catch let error as GatewaySetupError {
            throw CommandFailure(message: error.message)
        }
    }

    private func parsedAddress(_ text: String, option: String) throws -> ListenAddress {
        do {
            return try ListenAddress(parsing: text)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }
}

/// The store URL of docs/policies.md §3, `store`: `sqlite:PATH` (relative to the policy folder) or `postgres://…`.
enum StoreURL {
    static func validate(_ url: String) throws {
        do {
            _ = try StoreLocation(parsing: url)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// Opens the store (an SQLite file and its folder are created on first use, private to this user).
    static func open(_ url: String, folder: String) async throws -> Store {
        let location: StoreLocation
        do {
            location = try StoreLocation(parsing: url).resolved(against: folder)
        } catch {
            throw CommandFailure(message: error.message)
        }
        do {
            return try await Store.open(location, logger: Logger(label: "linkgate.store"))
        } catch {
            throw CommandFailure(message: error.message)
        }
    }
}
