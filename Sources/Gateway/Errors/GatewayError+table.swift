/// The one table from a code to the HTTP status, the `error` member and the
/// `WWW-Authenticate` challenges (docs/gateway.md §4).
extension GatewayError.Code {
    /// The HTTP status of the answer.
    var status: Int {
        switch self {
        case .invalidRequest, .badTarget, .pathNotNormalized, .badQueryEncoding, .encodedSlash, .badHost,
            .badFraming, .twoCredentials, .tokenTooLarge, .userRequired, .appRequired, .missingOriginalRequest,
            .plainHTTPToTLS:
            400
        case .formTooLarge: 413
        case .requestTimeout: 408
        case .headersTooLarge: 431
        case .methodNotAllowed: 405
        case .noRoute, .unknownInstallKey: 404
        case .insufficientScope, .insufficientPermission, .resourceUndetermined, .notCallingApp: 403
        case .basicThrottled: 429
        case .invalidGrant, .unauthorizedClient, .unsupportedGrantType, .invalidScope, .accessDenied,
            .unsupportedResponseType:
            400
        case .versionRejected, .parameterAbsent, .parameterRejected, .timestampRefused, .signatureMethodRejected: 400
        case .serverError: 500
        case .unknownUpstream, .upstreamUnreachable, .upstreamNotHTTP, .upstreamTLSFailed, .upstreamSwitchedProtocols:
            502
        case .temporarilyUnavailable, .storeUnavailable, .userRefused, .tooManyConnections: 503
        case .upstreamTimeout: 504
        default: 401
        }
    }

    /// Whether the code says the credential itself was refused (`invalid_token`).
    var refusesCredential: Bool { status == 401 && errorFamily == nil }

    /// The `error` member for codes that do not refuse a credential; nil for `invalid_token`.
    private var errorFamily: String? {
        switch self {
        case .invalidRequest, .badTarget, .pathNotNormalized, .badQueryEncoding, .encodedSlash, .badHost,
            .badFraming, .twoCredentials, .tokenTooLarge, .formTooLarge, .headersTooLarge, .methodNotAllowed,
            .userRequired, .appRequired, .requestTimeout, .missingOriginalRequest, .plainHTTPToTLS:
            "invalid_request"
        case .unauthenticated, .unsupportedScheme: "unauthorized"
        case .noRoute, .unknownInstallKey: "not_found"
        case .insufficientScope: "insufficient_scope"
        case .insufficientPermission, .resourceUndetermined, .notCallingApp: "insufficient_permission"
        case .basicThrottled: "too_many_requests"
        case .invalidClient, .invalidGrant, .unauthorizedClient, .unsupportedGrantType, .invalidScope, .accessDenied,
            .unsupportedResponseType, .serverError, .temporarilyUnavailable:
            rawValue
        case .versionRejected, .parameterAbsent, .parameterRejected, .timestampRefused, .signatureMethodRejected,
            .nonceUsed, .tokenRejected, .tokenExpired, .signatureInvalid, .consumerKeyUnknown, .permissionDenied,
            .userRefused:
            rawValue
        case .storeUnavailable, .tooManyConnections: "temporarily_unavailable"
        case .unknownUpstream, .upstreamUnreachable, .upstreamNotHTTP, .upstreamTLSFailed, .upstreamSwitchedProtocols:
            "bad_gateway"
        case .upstreamTimeout: "gateway_timeout"
        default: nil
        }
    }

    /// The `error` member; an OAuth 1.0a refusal names its `oauth_problem`.
    func errorMember(scheme: AuthorizationScheme?) -> String {
        if self == .tokenRevoked, scheme == .oauth { return rawValue }
        return errorFamily ?? "invalid_token"
    }
}

extension GatewayError {
    /// The realm of the gateway's own challenges.
    static let realm = "linkgate"

    var status: Int { statusOverride ?? code.status }

    /// The answer on the authz listener (docs/forward-auth.md): only 401 and 403
    /// speak of the original request there, because nginx's `auth_request` turns
    /// any other status into a 500. A 401 keeps its challenge; every other refusal
    /// of the request (400, 404, 405, 413, 429, 431) is a 403 with the same body;
    /// a failure of the gateway itself (5xx) stays what it is.
    var forForwardAuthorization: GatewayError {
        guard (400..<500).contains(status), status != 401 else { return self }
        var answer = self
        answer.statusOverride = 403
        return answer
    }

    /// The `error` member of the body.
    var error: String { code.errorMember(scheme: scheme) }

    /// The values of `WWW-Authenticate`, one header line each.
    var challenges: [String] {
        let realm = Self.realm
        if let siteRealm = self.realm {
            let quoted = AuthorizationScheme.quotedStringContent(siteRealm)
            return ["OAuth realm=\"\(quoted)\", oauth_problem=\"\(code.rawValue)\""]
        }
        switch code {
        case .unauthenticated, .unsupportedScheme:
            return ["Bearer realm=\"\(realm)\"", "JWT realm=\"\(realm)\""]
        case .insufficientScope where scheme == .bearer:
            let scope = requiredScopes.joined(separator: " ")
            return ["Bearer realm=\"\(realm)\", error=\"insufficient_scope\", scope=\"\(scope)\""]
        case .basicThrottled, .invalidClient:
            return ["Basic realm=\"\(realm)\""]
        case _ where code.refusesCredential:
            return scheme.map { [credentialChallenge($0)] } ?? []
        default:
            return []
        }
    }

    /// The challenge of the scheme a refused credential used, with the RFC 6750 error.
    private func credentialChallenge(_ scheme: AuthorizationScheme) -> String {
        switch scheme {
        case .basic: return "Basic realm=\"\(Self.realm)\""
        case .oauth: return "OAuth realm=\"\(Self.realm)\""
        case .jwt, .bearer:
            let description = AuthorizationScheme.quotedStringContent(message)
            return
                "\(scheme.rawValue) realm=\"\(Self.realm)\", error=\"invalid_token\", error_description=\"\(description)\""
        }
    }
}
