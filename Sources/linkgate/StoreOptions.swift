import ArgumentParser
import Foundation
import Grants
import Policy

/// `--store URL`, with `LINKGATE_STORE` and then gateway.json's `store` as fallbacks.
struct StoreOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The store, sqlite:PATH or postgres://user:pass@host:port/db (default: $LINKGATE_STORE, else gateway.json's store).",
            valueName: "URL"))
    var store: String?

    func validate() throws {
        if let store { try StoreURL.validate(store) }
    }

    /// Opens the store the gateway of this policy folder uses.
    func open(policy: CompiledPolicy, folder: String) async throws -> Store {
        let url = store ?? ProcessInfo.processInfo.environment["LINKGATE_STORE"] ?? policy.document.gateway.store
        return try await StoreURL.open(url, folder: folder)
    }
}
