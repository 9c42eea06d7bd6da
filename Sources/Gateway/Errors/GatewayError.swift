import JWT

/// An answer the gateway writes itself instead of forwarding (docs/gateway.md §4): a `code`, a message the caller can act
/// on, and what the body and challenges need. The status, the `error` member and
/// the challenge follow from the code (`GatewayError+table.swift`); two errors are
/// equal when their codes are. Never holds a credential.
struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the gateway answered itself. The raw value is the reason in the access
    /// log, the audit log and the `reason` label of the decision metric.
    enum Code: String, Sendable, CaseIterable {
        // The request is malformed: 400 `invalid_request` (413 and 431 for sizes).
        case invalidRequest = "invalid_request"
        case badTarget = "bad_target"
        case pathNotNormalized = "path_not_normalized"
        case badQueryEncoding = "bad_query_encoding"
        case encodedSlash = "encoded_slash"
        case badHost = "bad_host"
        case badFraming = "bad_framing"
        case requestTimeout = "request_timeout"
        case tooManyConnections = "too_many_connections"
        case twoCredentials = "two_credentials"
        case tokenTooLarge = "token_too_large"
        case formTooLarge = "form_too_large"
        case headersTooLarge = "headers_too_large"
        case methodNotAllowed = "method_not_allowed"
        case missingOriginalRequest = "missing_original_request"
        case plainHTTPToTLS = "plain_http_to_tls"

        // No credential, or one in a scheme the gateway does not speak: 401 with both challenges.
        case unauthenticated
        case unsupportedScheme = "unsupported_scheme"

        // The credential was refused: 401 `invalid_token` with its scheme's challenge.
        case emptyCredential = "empty_credential"
        case tokenRevoked = "token_revoked"
        case contextQSHNotAllowed = "context_qsh_not_allowed"
        case basicDisabled = "basic_disabled"
        case malformedBasic = "malformed_basic"
        case badAPIToken = "bad_api_token"
        // … by the JWT checks (`JWTError.Code`, docs/jwt.md).
        case segmentTooLarge = "segment_too_large"
        case malformedToken = "malformed_token"
        case invalidBase64URL = "invalid_base64url"
        case invalidJSON = "invalid_json"
        case duplicateKey = "duplicate_key"
        case jsonTooDeep = "json_too_deep"
        case jsonTooLarge = "json_too_large"
        case headerNotObject = "header_not_object"
        case claimsNotObject = "claims_not_object"
        case missingAlgorithm = "missing_algorithm"
        case algorithmNone = "algorithm_none"
        case algorithmMismatch = "algorithm_mismatch"
        case unsupportedAlgorithm = "unsupported_algorithm"
        case unsupportedCriticalHeader = "unsupported_critical_header"
        case unknownKeyID = "unknown_key_id"
        case invalidHeader = "invalid_header"
        case emptySignature = "empty_signature"
        case invalidSignature = "invalid_signature"
        case invalidKey = "invalid_key"
        case keyAlgorithmMismatch = "key_algorithm_mismatch"
        case keyCannotSign = "key_cannot_sign"
        case cryptoFailure = "crypto_failure"
        case missingClaim = "missing_claim"
        case invalidClaim = "invalid_claim"
        case expired
        case notYetValid = "not_yet_valid"
        case issuedInFuture = "issued_in_future"
        case lifetimeTooLong = "lifetime_too_long"
        case issuerMismatch = "issuer_mismatch"
        case audienceMismatch = "audience_mismatch"
        case subjectMismatch = "subject_mismatch"
        case typeMismatch = "type_mismatch"
        case unknownIssuer = "unknown_issuer"
        case qshMismatch = "qsh_mismatch"
        case invalidQueryEncoding = "invalid_query_encoding"
        // … by the policy as it is now (`IdentityProblem.Code`); the two `*Required` are 400.
        case unknownApp = "unknown_app"
        case appDisabled = "app_disabled"
        case unknownUser = "unknown_user"
        case userInactive = "user_inactive"
        case userRequired = "user_required"
        case appRequired = "app_required"
        case notAnOAuthClient = "not_an_oauth_client"
        case twoLeggedDisabled = "two_legged_disabled"

        // The decision refused the request (`Denial`).
        case noRoute = "no_route"
        case insufficientScope = "insufficient_scope"
        case insufficientPermission = "insufficient_permission"
        case resourceUndetermined = "resource_undetermined"
        case notCallingApp = "not_calling_app"

        // A gateway endpoint's own 404: no Connect install key has the asked `kid`.
        case unknownInstallKey = "unknown_install_key"

        // Too many failures for one login or client address: 429 with `Retry-After`.
        case basicThrottled = "basic_throttled"

        // The OAuth 2.0 endpoints (RFC 6749 §5.2, `OAuthError.Code`).
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        case accessDenied = "access_denied"
        case unsupportedResponseType = "unsupported_response_type"
        case serverError = "server_error"
        case temporarilyUnavailable = "temporarily_unavailable"

        // OAuth 1.0a problems (`OAuth1Problem.Code`, docs/protocols.md §6); `token_revoked` is shared.
        case versionRejected = "version_rejected"
        case parameterAbsent = "parameter_absent"
        case parameterRejected = "parameter_rejected"
        case timestampRefused = "timestamp_refused"
        case signatureMethodRejected = "signature_method_rejected"
        case nonceUsed = "nonce_used"
        case tokenRejected = "token_rejected"
        case tokenExpired = "token_expired"
        case signatureInvalid = "signature_invalid"
        case consumerKeyUnknown = "consumer_key_unknown"
        case permissionDenied = "permission_denied"
        case userRefused = "user_refused"

        // What lies behind the gateway failed.
        case storeUnavailable = "store_unavailable"
        case unknownUpstream = "unknown_upstream"
        case upstreamUnreachable = "upstream_unreachable"
        case upstreamNotHTTP = "upstream_not_http"
        case upstreamTLSFailed = "upstream_tls_failed"
        case upstreamSwitchedProtocols = "upstream_switched_protocols"
        case upstreamTimeout = "upstream_timeout"
    }

    let code: Code
    /// The `error_description` member: what went wrong, for the caller to act on.
    let message: String
    /// The scheme the refused credential was presented in: its challenge goes
    /// into `WWW-Authenticate`.
    var scheme: AuthorizationScheme?
    /// The `realm` of an OAuth 1.0a challenge: the site's base URL.
    var realm: String?
    /// Extra members of the JSON body, after `error` and `error_description`.
    var details: [(String, JSONValue)] = []
    /// The scopes that would pass, for the `scope` of a Bearer `insufficient_scope` challenge.
    var requiredScopes: [String] = []
    /// Seconds for `Retry-After`.
    var retryAfter: Int64?
    /// The methods for `Allow` on a 405.
    var allow: String?
    /// The status when it is not the code's own: the authz listener answers 403
    /// for refusals the main listener answers 400 or 404 (docs/forward-auth.md).
    var statusOverride: Int?
    /// What the operator's log says besides the message, never answered (why an
    /// upstream's TLS handshake failed).
    var logDetail: String?

    init(_ code: Code, _ message: String, scheme: AuthorizationScheme? = nil) {
        self.code = code
        self.message = message
        self.scheme = scheme
    }

    /// The reason in the access log, the audit log and the metrics.
    var reason: String { code.rawValue }

    var description: String { "\(code.rawValue): \(message)" }

    static func == (lhs: GatewayError, rhs: GatewayError) -> Bool { lhs.code == rhs.code }
}
