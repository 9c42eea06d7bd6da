/// An OAuth 2.0 error response (RFC 6749 §5.2): the `error` code, a
/// description the client can act on, and the HTTP status. Never holds a secret.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        /// Authorization endpoint (RFC 6749 §4.1.2.1).
        case accessDenied = "access_denied"
        case unsupportedResponseType = "unsupported_response_type"
        case serverError = "server_error"
        case temporarilyUnavailable = "temporarily_unavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// 401 for client authentication failures, 400 for the rest (RFC 6749 §5.2).
    public var status: Int { code == .invalidClient ? 401 : 400 }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Equal when the codes are, so tests can expect a code.
    public static func == (lhs: OAuthError, rhs: OAuthError) -> Bool { lhs.code == rhs.code }
}
