import Policy

/// Who a verified credential acts as, and what it may only be used for.
struct Authenticated: Sendable {
    let identity: Identity
    /// A Connect context token (`qsh` = `context-qsh`): valid only on `contextJwt` routes.
    var isContextToken = false
}

/// Verifies the credential a request presents with the verifier of its kind
/// (docs/gateway.md §3): one exhaustive switch, so a new
/// kind of credential cannot be added without saying how it is verified.
struct Authenticator: Sendable {
    let connectJWT: ConnectJWTAuthentication
    let bearer: BearerTokenAuthentication
    let oauth1: OAuth1Authentication
    let basic: BasicAuthentication

    init(grants: GrantServices, throttle: LoginThrottle) {
        connectJWT = ConnectJWTAuthentication()
        bearer = BearerTokenAuthentication()
        oauth1 = OAuth1Authentication(grants: grants)
        basic = BasicAuthentication(grants: grants, throttle: throttle)
    }

    /// What verifying a credential without the store gives.
    enum Verification {
        /// Verified (nil: an anonymous request).
        case verified(Authenticated?)
        /// A Basic credential memory cannot answer: the store is asked, so only the async path answers.
        case basic(Substring)
        /// An OAuth 1.0a header: the store is asked, so only the async path answers.
        case oauth1(Substring)
    }

    /// Verifies `credential` on the calling thread when that needs no store:
    /// Connect JWTs, Bearer tokens, none, and API tokens the store vouched for
    /// recently (docs/links.md, "Verified credentials in memory"). The fast path answers these on the
    /// event loop; `authenticate` answers them the same way.
    /// - Throws: `GatewayError`: 401 `invalid_token` with the scheme's challenge.
    func verifyWithoutStore(
        _ credential: PresentedCredential, request: RequestLine, snapshot: PolicySnapshot
    ) throws(GatewayError) -> Verification {
        switch credential {
        case .none:
            return .verified(nil)
        case .connectJWT(let token, _):
            return .verified(try connectJWT.authenticate(token, request: request, snapshot: snapshot))
        case .bearer(let token):
            return .verified(try bearer.authenticate(token, snapshot: snapshot))
        case .oauth1(let header):
            return .oauth1(header)
        case .basic(let encoded):
            // An API token the store vouched for recently is answered from memory.
            if let verified = try basic.authenticateFromMemory(encoded, request: request, snapshot: snapshot) {
                return .verified(verified)
            }
            return .basic(encoded)
        }
    }

    /// The identity behind `credential`, or nil for an anonymous request.
    /// - Throws: `GatewayError` for every refusal: 401 `invalid_token` with the
    ///   scheme's challenge, 429 after repeated Basic failures, 503 without the store.
    func authenticate(
        _ credential: PresentedCredential, request: RequestLine, snapshot: PolicySnapshot
    ) async throws(GatewayError) -> Authenticated? {
        switch try verifyWithoutStore(credential, request: request, snapshot: snapshot) {
        case .verified(let authenticated):
            return authenticated
        case .oauth1(let header):
            return try await oauth1.authenticate(header, request: request, snapshot: snapshot)
        case .basic(let encoded):
            return try await basic.authenticate(encoded, request: request, snapshot: snapshot)
        }
    }
}
