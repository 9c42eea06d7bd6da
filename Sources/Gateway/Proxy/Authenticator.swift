import JWT
import Scopes

/// The request line a credential is checked against.
public struct RequestLine: Sendable {
    public let method: String
    /// As received, still percent-encoded.
    public let rawPath: Substring
    /// As received, without `?`; the `jwt` parameter may still be in it.
    public let rawQuery: Substring?
    /// A form body, read for OAuth 1.0a requests, whose parameters are signed (RFC 5849 §3.4.1.3.1).
    public var formBody: String? = nil
    /// The client's address, for slowing down repeated failures.
    public var clientAddress: String? = nil
}

/// Who a verified credential acts as, and what it may only be used for.
public struct Authenticated: Sendable {
    public let identity: Identity
    /// A Connect context token (`qsh` = `context-qsh`): valid only on `contextJwt` routes.
    public let isContextToken: Bool
}

/// Verifies one kind of credential: the seam every credential kind plugs into.
public protocol CredentialVerifier: Sendable {
    /// Whether this verifier handles `credential`.
    func handles(_ credential: PresentedCredential) -> Bool
    /// Verifies the credential against the live policy (and, for later kinds, the store).
    /// - Throws: `GatewayError`, a 401 `invalid_token` for every refusal.
    func authenticate(_ credential: PresentedCredential, request: RequestLine, policy: PolicySnapshot) async throws(GatewayError)
        -> Authenticated
}

/// Finds the verifier for a credential; a kind no verifier handles yet is a 401
/// that says so.
public struct Authenticator: Sendable {
    let verifiers: [any CredentialVerifier]

    public init(verifiers: [any CredentialVerifier]) { self.verifiers = verifiers }

    /// The identity behind `credential`, or nil for an anonymous request.
    public func authenticate(_ credential: PresentedCredential, request: RequestLine, policy: PolicySnapshot)
        async throws(GatewayError) -> Authenticated?
    {
        if credential == .none { return nil }
        guard let verifier = verifiers.first(where: { $0.handles(credential) }) else {
            throw .invalidToken(
                "\(credential.scheme.rawValue) credentials are not accepted by this gateway yet",
                reason: "unsupported_credential", scheme: credential.scheme)
        }
        return try await verifier.authenticate(credential, request: request, policy: policy)
    }
}

/// Connect JWTs (PROTOCOLS §1): HS256 with the app's shared secret, bound to
/// the request by `qsh`; the request acts as the app user with the app's scopes.
public struct ConnectJWTAuthentication: CredentialVerifier {
    public init() {}

    public func handles(_ credential: PresentedCredential) -> Bool {
        if case .connectJWT = credential { true } else { false }
    }

    public func authenticate(_ credential: PresentedCredential, request: RequestLine, policy: PolicySnapshot)
        throws(GatewayError) -> Authenticated
    {
        guard case .connectJWT(let token, _) = credential else {
            preconditionFailure("ConnectJWTAuthentication was given a \(credential.scheme.rawValue) credential")
        }
        let claims: ConnectClaims
        do {
            // `context-qsh` is let through here and refused later unless the matched route allows it.
            claims = try policy.connectVerifier.verify(
                token, method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery ?? "",
                allowContextQSH: true)
        } catch let error as JWTError {
            throw .invalidToken(error.reason, reason: ReasonCode.snakeCase(error.code.rawValue), scheme: .jwt)
        } catch {
            throw .invalidToken("the Connect JWT could not be verified", reason: "verification_failed", scheme: .jwt)
        }
        do {
            let identity = try policy.policy.identity(for: .connectJWT, appKey: claims.issuer, accountId: nil)
            return Authenticated(identity: identity, isContextToken: claims.isContextToken)
        } catch {
            throw .invalidToken(error.message, reason: ReasonCode.snakeCase(error.code.rawValue), scheme: .jwt)
        }
    }
}

/// Reason codes in logs and metrics are snake_case (`qsh_mismatch`, `app_disabled`).
enum ReasonCode {
    /// `qshMismatch` → `qsh_mismatch`; an acronym stays one word (`contextQSHNotAllowed` → `context_qsh_not_allowed`).
    static func snakeCase(_ camelCase: String) -> String {
        let characters = Array(camelCase)
        var result = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previousIsLower = characters[index - 1].isLowercase
                let startsWord = index + 1 < characters.count && characters[index + 1].isLowercase
                    && characters[index - 1].isUppercase
                if previousIsLower || startsWord { result += "_" }
            }
            result += character.lowercased()
        }
        return result
    }
}
