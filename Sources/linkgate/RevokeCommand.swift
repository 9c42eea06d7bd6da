import ArgumentParser
import Grants
import JWT
import Policy

/// `linkgate revoke`: revokes in the store; running gateways sharing it refuse within 2 s.
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke access tokens: one token, every token of an app, or every token acting as a user.",
        discussion: """
            Writes the revocation to the store. Every gateway sharing the store refuses the tokens within 2 s; \
            a gateway honours its own revocations at once. Tokens issued after the revocation are not affected: \
            to shut an app or a user out for good, disable it in the policy.
            """
    )

    @OptionGroup var policies: PolicyOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Revoke every live token issued to this app.")
    var app: String?

    @Option(help: ArgumentHelp("Revoke every live token acting as this user.", valueName: "ACCOUNT_ID"))
    var user: String?

    @Option(help: ArgumentHelp("Revoke this access token.", valueName: "TOKEN"))
    var token: String?

    func validate() throws {
        guard [app, user, token].compactMap({ $0 }).count == 1 else {
            throw ValidationError("name exactly one of --app KEY, --user ACCOUNT_ID or --token TOKEN")
        }
    }

    func run() async throws {
        let policy = try policies.load()
        let store = try await storeOptions.open(policy: policy, folder: try policies.resolvedFolder())
        do {
            try await revoke(in: store, policy: policy)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    private func revoke(in store: Store, policy: CompiledPolicy) async throws {
        if let app {
            let count = try await store.revokeTokens(ofApp: app)
            print("revoked \(count) token\(count == 1 ? "" : "s") of the app \(app)")
        } else if let user {
            let count = try await store.revokeTokens(ofUser: user)
            print("revoked \(count) token\(count == 1 ? "" : "s") acting as \(user)")
        } else if let token {
            let claims = try await verified(token, store: store, policy: policy)
            let fresh = try await store.revokeToken(
                id: claims.tokenID, expiresAt: claims.expiresAt, reason: "linkgate revoke")
            print(fresh ? "revoked the token \(claims.tokenID)" : "the token \(claims.tokenID) was already revoked")
        }
    }

    /// The token's claims, checked against the gateway's key so only its own tokens are revoked.
    private func verified(_ token: String, store: Store, policy: CompiledPolicy) async throws -> AccessToken {
        let settings = policy.document.gateway
        let key: JWTKey
        do {
            key = try await SigningKeys.load(
                settings: settings.accessTokens, folder: try policies.resolvedFolder(), store: store)
        } catch let error as SigningKeyError {
            throw CommandFailure(message: error.message)
        }
        do {
            return try AccessTokenVerifier(
                keys: [key], issuer: settings.baseUrl, clockSkew: Int64(settings.clockSkewSeconds)
            )
            .verify(token)
        } catch {
            if error.code == .expired {
                throw CommandFailure(message: "--token: the token has expired already; nothing to revoke")
            }
            throw CommandFailure(message: "--token: not an access token of this gateway: \(error.reason)")
        }
    }
}
