import Grants
import JWT
import Logging
import Policy
import Scopes

/// The one place where the other modules' errors become gateway answers.
extension GatewayError {
    /// A token the JWT checks refused, presented in `scheme`.
    init(_ error: JWTError, scheme: AuthorizationScheme) {
        self.init(Code(error.code), error.reason, scheme: scheme)
    }

    /// A credential that names an app or user the policy refuses now.
    init(_ problem: IdentityProblem, scheme: AuthorizationScheme) {
        self.init(Code(problem.code), problem.message, scheme: scheme)
    }

    /// An OAuth 2.0 endpoint error (RFC 6749 §5.2).
    init(_ error: OAuthError) {
        self.init(Code(error.code), error.message)
    }

    /// An OAuth 1.0a refusal, challenged with the site's base URL as the realm.
    init(_ problem: OAuth1Problem, realm: String) {
        self.init(Code(problem.code), problem.message, scheme: .oauth)
        self.realm = realm
    }

    /// The decision's refusal of a request whose credential was presented in `scheme`.
    init(_ denial: Denial, scheme: AuthorizationScheme?) {
        self.init(Code(denial), denial.message, scheme: scheme)
        switch denial {
        case .insufficientScope(let required):
            requiredScopes = required.map(\.name)
            details = [("required_scopes", .array(requiredScopes.map { .string($0) }))]
        case .insufficientPermission(let permission, let resource):
            details = [("permission", .string(permission)), ("resource", .string(resource.description))]
        case .resourceUndetermined(let permission, let template, _):
            details = [("permission", .string(permission)), ("resource", .string(template))]
        case .notCallingApp(let parameter, _):
            details = [("parameter", .string(parameter))]
        case .credentialRefused, .contextTokenNotAllowed, .encodedSlash, .noRoute, .unauthenticated:
            break
        }
    }

    /// What a handler threw, as the answer: the other modules' errors by their
    /// codes, anything unforeseen as a 500 that names only the error's type.
    init(answering error: any Error, realm: String) {
        switch error {
        case let error as GatewayError: self = error
        case let error as OAuthError: self.init(error)
        case let problem as OAuth1Problem: self.init(problem, realm: realm)
        case is StoreError: self = .storeUnavailable
        default: self = .unexpected(error)
        }
    }

    /// The store did not answer: 503, try again.
    static let storeUnavailable = GatewayError(.storeUnavailable, "the site's store did not answer; try again")

    /// A failure no check foresaw: 500 `server_error`. The type of the error is
    /// kept for the operator's log; its text may hold anything, so it is not answered.
    static func unexpected(_ error: any Error) -> GatewayError {
        GatewayError(.serverError, "the gateway failed unexpectedly (\(type(of: error)))")
    }

    /// 502: the upstream refused or reset the connection.
    static func upstreamUnreachable(_ upstream: String) -> GatewayError {
        GatewayError(.upstreamUnreachable, "the upstream \(upstream) could not be reached")
    }

    /// 502: the upstream answered with bytes that are not an HTTP/1.1 response.
    static func upstreamNotHTTP(_ upstream: String) -> GatewayError {
        GatewayError(.upstreamNotHTTP, "the upstream \(upstream) answered with something that is not HTTP")
    }

    /// 502: the TLS handshake with the upstream failed (its certificate did not
    /// verify, or it does not speak TLS); `detail` says why, for the log only.
    static func upstreamTLSFailed(_ upstream: String, detail: String) -> GatewayError {
        var error = GatewayError(
            .upstreamTLSFailed, "the upstream \(upstream) could not be reached: its TLS handshake failed")
        error.logDetail = detail
        return error
    }

    /// The log metadata of a failed upstream request: the upstream, the reason,
    /// and the detail when there is one (`cause`).
    func upstreamMetadata(_ upstream: String) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["upstream": .string(upstream), "error": .string(reason)]
        if let logDetail { metadata["cause"] = .string(logDetail) }
        return metadata
    }

    /// 504: the upstream did not answer in time.
    static func upstreamTimeout(_ upstream: String, milliseconds: Int) -> GatewayError {
        GatewayError(.upstreamTimeout, "the upstream \(upstream) did not answer within \(milliseconds) ms")
    }

    /// 405 for a method an endpoint does not answer.
    static func methodNotAllowed(_ allow: String) -> GatewayError {
        var error = GatewayError(.methodNotAllowed, "this endpoint answers \(allow) only")
        error.allow = allow
        return error
    }
}

extension GatewayError.Code {
    init(_ code: JWTError.Code) {
        switch code {
        case .tokenTooLarge: self = .tokenTooLarge
        case .segmentTooLarge: self = .segmentTooLarge
        case .malformedToken: self = .malformedToken
        case .invalidBase64URL: self = .invalidBase64URL
        case .invalidJSON: self = .invalidJSON
        case .duplicateKey: self = .duplicateKey
        case .jsonTooDeep: self = .jsonTooDeep
        case .jsonTooLarge: self = .jsonTooLarge
        case .headerNotObject: self = .headerNotObject
        case .claimsNotObject: self = .claimsNotObject
        case .missingAlgorithm: self = .missingAlgorithm
        case .algorithmNone: self = .algorithmNone
        case .algorithmMismatch: self = .algorithmMismatch
        case .unsupportedAlgorithm: self = .unsupportedAlgorithm
        case .unsupportedCriticalHeader: self = .unsupportedCriticalHeader
        case .unknownKeyID: self = .unknownKeyID
        case .invalidHeader: self = .invalidHeader
        case .emptySignature: self = .emptySignature
        case .invalidSignature: self = .invalidSignature
        case .invalidKey: self = .invalidKey
        case .keyAlgorithmMismatch: self = .keyAlgorithmMismatch
        case .keyCannotSign: self = .keyCannotSign
        case .cryptoFailure: self = .cryptoFailure
        case .missingClaim: self = .missingClaim
        case .invalidClaim: self = .invalidClaim
        case .expired: self = .expired
        case .notYetValid: self = .notYetValid
        case .issuedInFuture: self = .issuedInFuture
        case .lifetimeTooLong: self = .lifetimeTooLong
        case .issuerMismatch: self = .issuerMismatch
        case .audienceMismatch: self = .audienceMismatch
        case .subjectMismatch: self = .subjectMismatch
        case .typeMismatch: self = .typeMismatch
        case .unknownIssuer: self = .unknownIssuer
        case .qshMismatch: self = .qshMismatch
        case .contextQSHNotAllowed: self = .contextQSHNotAllowed
        case .invalidQueryEncoding: self = .invalidQueryEncoding
        }
    }

    init(_ code: IdentityProblem.Code) {
        switch code {
        case .unknownApp: self = .unknownApp
        case .appDisabled: self = .appDisabled
        case .unknownUser: self = .unknownUser
        case .userInactive: self = .userInactive
        case .userRequired: self = .userRequired
        case .appRequired: self = .appRequired
        case .notAnOAuthClient: self = .notAnOAuthClient
        case .twoLeggedDisabled: self = .twoLeggedDisabled
        }
    }

    init(_ code: OAuthError.Code) {
        switch code {
        case .invalidRequest: self = .invalidRequest
        case .invalidClient: self = .invalidClient
        case .invalidGrant: self = .invalidGrant
        case .unauthorizedClient: self = .unauthorizedClient
        case .unsupportedGrantType: self = .unsupportedGrantType
        case .invalidScope: self = .invalidScope
        case .accessDenied: self = .accessDenied
        case .unsupportedResponseType: self = .unsupportedResponseType
        case .serverError: self = .serverError
        case .temporarilyUnavailable: self = .temporarilyUnavailable
        }
    }

    init(_ code: OAuth1Problem.Code) {
        switch code {
        case .versionRejected: self = .versionRejected
        case .parameterAbsent: self = .parameterAbsent
        case .parameterRejected: self = .parameterRejected
        case .timestampRefused: self = .timestampRefused
        case .signatureMethodRejected: self = .signatureMethodRejected
        case .nonceUsed: self = .nonceUsed
        case .tokenRejected: self = .tokenRejected
        case .tokenExpired: self = .tokenExpired
        case .tokenRevoked: self = .tokenRevoked
        case .signatureInvalid: self = .signatureInvalid
        case .consumerKeyUnknown: self = .consumerKeyUnknown
        case .permissionDenied: self = .permissionDenied
        case .userRefused: self = .userRefused
        }
    }

    init(_ denial: Denial) {
        switch denial {
        // Refusals carry `IdentityProblem` codes, each of which is a code here too.
        case .credentialRefused(let refusal): self = Self(rawValue: refusal.code) ?? .unknownApp
        case .contextTokenNotAllowed: self = .contextQSHNotAllowed
        case .encodedSlash: self = .encodedSlash
        case .noRoute: self = .noRoute
        case .unauthenticated: self = .unauthenticated
        case .insufficientScope: self = .insufficientScope
        case .insufficientPermission: self = .insufficientPermission
        case .resourceUndetermined: self = .resourceUndetermined
        case .notCallingApp: self = .notCallingApp
        }
    }
}
