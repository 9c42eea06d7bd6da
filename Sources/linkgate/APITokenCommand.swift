import ArgumentParser
import Foundation
import Grants
import JWT
import Policy

/// `linkgate api-token create | list | revoke`: API tokens for HTTP Basic.
struct APITokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-token",
        abstract: "Create, list and revoke API tokens (HTTP Basic: base64(email-or-name:token)).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API token for a user; it is printed once and only its hash is stored.")

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The account id of the token's user.", valueName: "ACCOUNT_ID")) var user: String
        @Option(help: "What the token is for (shown by list).") var label: String

        func validate() throws {
            guard !label.trimmingCharacters(in: .whitespaces).isEmpty, label.count <= 200 else {
                throw ValidationError("--label must be 1 to 200 characters")
            }
        }

        func run() async throws {
            let policy = try policies.load()
            guard let record = policy.user(accountId: user) else {
                throw ValidationError("--user: no user has the account id \(user)")
            }
            guard record.active else { throw CommandFailure(message: "the user \(user) is inactive") }
            let id = "at-" + SecureRandom.identifier(bytes: 9)
            let token = "lgat_" + SecureRandom.identifier(bytes: 32)
            try await withStore(policies, storeOptions, policy) { store in
                try await store.createAPIToken(id: id, token: token, accountId: user, label: label)
            }
            print(token)
            writeToStandardError(
                "linkgate: API token \(id) for \(record.name) (\(label)); it is shown only now. "
                    + "Use it as the password of HTTP Basic with the user name \(record.email ?? record.name).\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API tokens (never the tokens themselves).")

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("Only this user's.", valueName: "ACCOUNT_ID")) var user: String?

        func run() async throws {
            let policy = try policies.load()
            let tokens = try await withStore(policies, storeOptions, policy) { try await $0.apiTokens(accountId: user) }
            var lines = ""
            for token in tokens {
                let state = token.revoked ? "revoked" : "active"
                lines +=
                    "\(token.id) \(token.accountId) \(state) \(AuditLine.timestamp(token.createdAt * 1000)) \(token.label)\n"
            }
            print(lines, terminator: "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API token by its id (from list); every gateway refuses it within 2 s.")

        @OptionGroup var policies: PolicyOptions
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The token's id (at-…).") var id: String

        func run() async throws {
            let policy = try policies.load()
            let revoked = try await withStore(policies, storeOptions, policy) { try await $0.revokeAPIToken(id: id) }
            guard revoked else { throw CommandFailure(message: "no live API token has the id \(id)") }
            print("revoked the API token \(id)")
        }
    }
}

/// Opens the store, runs `body`, closes it.
func withStore<T>(
    _ policies: PolicyOptions, _ options: StoreOptions, _ policy: CompiledPolicy,
    _ body: (Store) async throws -> T
) async throws -> T {
    let store = try await options.open(policy: policy, folder: try policies.resolvedFolder())
    do {
        let result = try await body(store)
        await store.close()
        return result
    } catch let error as StoreError {
        await store.close()
        throw CommandFailure(message: error.message)
    } catch {
        await store.close()
        throw error
    }
}
