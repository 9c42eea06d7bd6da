import ArgumentParser
import Foundation
import Grants
import JWT
import Policy

/// `linkgate app install | uninstall | disable | enable`: Connect apps that
/// install themselves from their descriptor (docs/connect-install.md).
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Install a Connect app from its descriptor; uninstall, disable or enable it.",
        subcommands: [Install.self, Uninstall.self, Disable.self, Enable.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install (or re-install) a Connect app from its atlassian-connect.json.",
            discussion: """
                Reads and checks the descriptor, generates a new shared secret, and POSTs it to the app's \
                installed callback, signed RS256 with the gateway's install key. Only when the app answers \
                2xx are secrets/KEY.secret, users.json (the app user, when missing) and the app's file \
                written; otherwise the policy folder is left as it was. A running gateway loads the change \
                on its next reload.
                """)

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The descriptor: an http(s) URL or a file.", valueName: "URL|FILE"))
        var descriptor: String

        func run() async throws {
            let policy = try policies.load()
            let folder = try policies.resolvedFolder()
            let bytes = try await LifecycleHTTP.readDescriptor(descriptor)
            let parsed: ConnectDescriptor
            do {
                parsed = try ConnectDescriptor.parse(bytes, source: descriptor, knownScopes: policy.knownScopes)
            } catch {
                let count = error.problems.count
                throw CommandFailure(
                    message: "the descriptor cannot be installed (\(count) problem\(count == 1 ? "" : "s")):\n"
                        + error.problems.map { "  \($0.description)" }.joined(separator: "\n"))
            }
            let secret = AppInstallation.newSharedSecret()
            let plan: AppInstallation.Plan
            do {
                plan = try AppInstallation.install(parsed, sharedSecret: secret, policy: policy)
            } catch {
                throw CommandFailure(message: error.message)
            }
            let callback = try await AppLifecycle.callback(
                .installed, appKey: parsed.key, lifecycle: parsed.lifecycle, sharedSecret: secret,
                oauthClientId: plan.oauthClientId, policy: policy, policies: policies, storeOptions: storeOptions)
            guard let callback else { throw CommandFailure(message: "the descriptor names no installed callback") }
            let answer = try await LifecycleHTTP.send(callback)
            guard answer.isSuccess else {
                throw CommandFailure(
                    message: "the app answered \(answer.status) to installed (POST \(callback.url)): "
                        + "\(answer.excerpt); nothing was changed")
            }
            try AppLifecycle.apply(plan, folder: folder)
            var lines = [
                "\(plan.reinstall ? "re-installed" : "installed") \(parsed.key) (\(parsed.name)): \(plan.appFile), "
                    + "shared secret in \(AppInstallation.secretFile(key: parsed.key))"
                    + (plan.reinstall ? " (rotated)" : "")
            ]
            let scopes = parsed.scopes.isEmpty ? "none" : parsed.scopes.joined(separator: " ")
            lines.append("scopes: \(scopes); app user: \(plan.appUser ?? "-")\(plan.createsUser ? " (created)" : "")")
            lines.append("the app answered \(answer.status); a running gateway applies this on its next reload")
            print(lines.joined(separator: "\n"))
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Uninstall an app: send its uninstalled callback, then remove its file and secret.",
            discussion: """
                The uninstall happens even when the app does not accept the callback (that is reported). \
                Every token of the app stops working once a running gateway has reloaded; its tokens and \
                consents in the store are revoked too, so installing it again starts afresh.
                """)

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The app key.") var key: String

        func run() async throws {
            let policy = try policies.load()
            let plan: AppInstallation.Plan
            do {
                plan = try AppInstallation.uninstall(key: key, policy: policy)
            } catch {
                throw CommandFailure(message: error.message)
            }
            let report = try await AppLifecycle.notify(
                .uninstalled, key: key, plan: plan, policy: policy, policies: policies, storeOptions: storeOptions)
            try AppLifecycle.apply(plan, folder: try policies.resolvedFolder())
            let (tokens, consents) = try await withStore(policies, storeOptions, policy) { store in
                (try await store.revokeTokens(ofApp: key), try await store.forgetConsents(ofApp: key))
            }
            let removed = plan.changes.map(\.file).joined(separator: " and ")
            print(
                "uninstalled \(key): removed \(removed); revoked \(tokens) token\(tokens == 1 ? "" : "s"), "
                    + "forgot \(consents) consent\(consents == 1 ? "" : "s")\n\(report)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an app: send its disabled callback, then set \"enabled\": false.")

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The app key.") var key: String

        func run() async throws {
            try await AppLifecycle.setEnabled(false, key: key, policies: policies, storeOptions: storeOptions)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable an app: send its enabled callback, then set \"enabled\": true.")

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The app key.") var key: String

        func run() async throws {
            try await AppLifecycle.setEnabled(true, key: key, policies: policies, storeOptions: storeOptions)
        }
    }
}

/// What the `app` subcommands share: signing a callback, applying a plan.
enum AppLifecycle {
    /// The signed callback for `event`, or nil when the app names no path for it.
    static func callback(
        _ event: LifecycleCallback.Event, appKey: String, lifecycle: ConnectLifecycle, sharedSecret: String? = nil,
        oauthClientId: String?, policy: CompiledPolicy, policies: PolicyOptions, storeOptions: StoreOptions
    ) async throws -> LifecycleCallback? {
        guard lifecycle.paths[event.rawValue] != nil else { return nil }
        let settings = policy.document.gateway
        let (key, clientKey) = try await withStore(policies, storeOptions, policy) { store in
            let key = try await store.connectInstallKey()
            if let configured = settings.site.id { return (key, configured) }
            return (key, try await store.siteID())
        }
        let site = LifecycleSite(clientKey: clientKey, baseUrl: settings.baseUrl, description: settings.site.name)
        do {
            return try LifecycleCallback.make(
                event, appKey: appKey, lifecycle: lifecycle, site: site, sharedSecret: sharedSecret,
                oauthClientId: oauthClientId, key: key)
        } catch {
            throw CommandFailure(message: "the \(event.rawValue) callback cannot be signed: \(error.reason)")
        }
    }

    /// Sends `event` when the app names a path for it, and says how that went;
    /// a failure is reported, not thrown: the change happens anyway.
    static func notify(
        _ event: LifecycleCallback.Event, key: String, plan: AppInstallation.Plan, policy: CompiledPolicy,
        policies: PolicyOptions, storeOptions: StoreOptions
    ) async throws -> String {
        guard let lifecycle = plan.lifecycle else {
            return "the app was not installed from a descriptor: no \(event.rawValue) callback sent"
        }
        let callback = try await callback(
            event, appKey: key, lifecycle: lifecycle, oauthClientId: plan.oauthClientId,
            policy: policy, policies: policies, storeOptions: storeOptions)
        guard let callback else { return "the app names no \(event.rawValue) callback: none sent" }
        do {
            let answer = try await LifecycleHTTP.send(callback)
            if answer.isSuccess { return "the app answered \(answer.status) to \(event.rawValue)" }
            writeToStandardError(
                "linkgate: warning: the app answered \(answer.status) to \(event.rawValue) "
                    + "(POST \(callback.url)): \(answer.excerpt); going ahead\n")
            return "the app answered \(answer.status) to \(event.rawValue) (reported above)"
        } catch {
            writeToStandardError("linkgate: warning: \(error); going ahead\n")
            return "the \(event.rawValue) callback failed (reported above)"
        }
    }

    static func setEnabled(
        _ enabled: Bool, key: String, policies: PolicyOptions, storeOptions: StoreOptions
    ) async throws {
        let policy = try policies.load()
        let plan: AppInstallation.Plan
        do {
            plan = try AppInstallation.setEnabled(enabled, key: key, policy: policy)
        } catch {
            throw CommandFailure(message: error.message)
        }
        let report = try await notify(
            enabled ? .enabled : .disabled, key: key, plan: plan, policy: policy, policies: policies,
            storeOptions: storeOptions)
        try apply(plan, folder: try policies.resolvedFolder())
        print("\(enabled ? "enabled" : "disabled") \(key) (\(plan.appFile))\n\(report)")
    }

    /// Writes the plan's files, each atomically, then checks that the folder still
    /// loads; when it does not, every file is put back and the command fails.
    static func apply(_ plan: AppInstallation.Plan, folder: String) throws {
        let undo: PolicyFolderUndo
        do {
            undo = try PolicyFolderWriter(folder: folder).apply(plan.changes)
        } catch {
            throw CommandFailure(message: "the policy folder was left as it was: \(error.message)")
        }
        do {
            _ = try PolicyLoader.compile(folder: folder, environment: ProcessInfo.processInfo.environment)
        } catch {
            try? undo.undo()
            throw CommandFailure(
                message: "the changed policy folder would not load, so it was put back as it was:\n"
                    + error.problems.map { "  \($0.description)" }.joined(separator: "\n"))
        }
    }
}
