/// An OAuth 1.0a refusal (docs/protocols.md §6): the `oauth_problem` code of the OAuth
/// Problem Reporting extension, its HTTP status, and a message. Never holds a secret.
public struct OAuth1Problem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case versionRejected = "version_rejected"
        case parameterAbsent = "parameter_absent"
        case parameterRejected = "parameter_rejected"
        case timestampRefused = "timestamp_refused"
        case signatureMethodRejected = "signature_method_rejected"
        case nonceUsed = "nonce_used"
        case tokenRejected = "token_rejected"
        case tokenExpired = "token_expired"
        case tokenRevoked = "token_revoked"
        case signatureInvalid = "signature_invalid"
        case consumerKeyUnknown = "consumer_key_unknown"
        case permissionDenied = "permission_denied"
        case userRefused = "user_refused"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// 400 for malformed requests, 503 for a user's refusal, 401 for the rest (docs/protocols.md §6).
    public var status: Int {
        switch code {
        case .versionRejected, .parameterAbsent, .parameterRejected, .timestampRefused, .signatureMethodRejected: 400
        case .userRefused: 503
        default: 401
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: OAuth1Problem, rhs: OAuth1Problem) -> Bool { lhs.code == rhs.code }
}
