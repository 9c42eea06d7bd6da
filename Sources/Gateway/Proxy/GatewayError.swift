import JWT

/// An answer the gateway writes itself instead of forwarding (CONTRACT §4):
/// a status, the `error` and `error_description` of the JSON body, extra body
/// members, and the `WWW-Authenticate` challenges. Never holds a credential.
public struct GatewayError: Error, Sendable, Equatable {
    public var status: Int
    /// The `error` member: `invalid_token`, `insufficient_scope`, `not_found`…
    public var error: String
    /// The `error_description` member: what went wrong, for the caller to act on.
    public var message: String
    /// A finer reason for the access log and metrics (`qsh_mismatch`, `app_disabled`…).
    public var reason: String
    /// Extra members of the JSON body, after `error` and `error_description`.
    public var details: [(String, JSONValue)] = []
    /// Values of `WWW-Authenticate`, one header line each.
    public var challenges: [String] = []
    /// Seconds for `Retry-After` (a 429 after repeated failures).
    public var retryAfter: Int64?

    public init(status: Int, error: String, message: String, reason: String? = nil) {
        self.status = status
        self.error = error
        self.message = message
        self.reason = reason ?? error
    }

    /// The JSON body: `{"error": …, "error_description": …, …details}`.
    public var body: String {
        var members: [(String, JSONValue)] = [("error", .string(error)), ("error_description", .string(message))]
        members += details
        return JSONValue.object(JSONObject(members)).serialized(.compact)
    }

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool {
        lhs.status == rhs.status && lhs.error == rhs.error && lhs.message == rhs.message && lhs.reason == rhs.reason
            && lhs.challenges == rhs.challenges && lhs.body == rhs.body
    }
}

extension GatewayError {
    static let realm = "linkgate"

    /// 400 `invalid_request`: the request itself is malformed.
    static func invalidRequest(_ message: String, reason: String = "invalid_request", status: Int = 400) -> GatewayError {
        GatewayError(status: status, error: "invalid_request", message: message, reason: reason)
    }

    /// 401 without a credential: both challenges a client can answer.
    static func credentialRequired(_ message: String) -> GatewayError {
        var error = GatewayError(status: 401, error: "unauthorized", message: message, reason: "unauthenticated")
        error.challenges = ["Bearer realm=\"\(realm)\"", "JWT realm=\"\(realm)\""]
        return error
    }

    /// 401 `invalid_token`, with the challenge of the scheme the credential used.
    static func invalidToken(_ message: String, reason: String, scheme: AuthorizationScheme) -> GatewayError {
        var error = GatewayError(status: 401, error: "invalid_token", message: message, reason: reason)
        error.challenges = [scheme.challenge(error: "invalid_token", description: message)]
        return error
    }

    /// 502 `bad_gateway`: the upstream refused or reset the connection.
    static func badGateway(_ upstream: String) -> GatewayError {
        GatewayError(status: 502, error: "bad_gateway", message: "the upstream \(upstream) could not be reached",
                     reason: "upstream_unreachable")
    }

    /// 504 `gateway_timeout`: the upstream did not answer in time.
    static func gatewayTimeout(_ upstream: String, milliseconds: Int) -> GatewayError {
        GatewayError(status: 504, error: "gateway_timeout",
                     message: "the upstream \(upstream) did not answer within \(milliseconds) ms",
                     reason: "upstream_timeout")
    }
}

/// The scheme word of an `Authorization` header, as far as the gateway knows it.
public enum AuthorizationScheme: String, Sendable, Equatable {
    case jwt = "JWT"
    case bearer = "Bearer"
    case basic = "Basic"
    case oauth = "OAuth"

    /// A `WWW-Authenticate` value for this scheme carrying an RFC 6750 error.
    func challenge(error: String, description: String) -> String {
        let quoted = Self.quotedStringContent(description)
        switch self {
        case .basic: return "Basic realm=\"\(GatewayError.realm)\""
        case .oauth: return "OAuth realm=\"\(GatewayError.realm)\""
        case .jwt, .bearer:
            return "\(rawValue) realm=\"\(GatewayError.realm)\", error=\"\(error)\", error_description=\"\(quoted)\""
        }
    }

    /// `text` made safe inside a quoted-string: printable ASCII only, `"` and `\` escaped.
    static func quotedStringContent(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": result += "\\\(scalar)"
            case " "..."~": result.unicodeScalars.append(scalar)
            default: result += "?"
            }
        }
        return result
    }
}
