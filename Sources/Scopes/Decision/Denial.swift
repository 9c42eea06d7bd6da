/// Why a request is refused, with the HTTP status and `error` value the gateway
/// answers with (docs/gateway.md §4). Messages are built only when asked for.
public enum Denial: Hashable, Sendable, CustomStringConvertible {
    /// The credential was refused before any route was looked at (an unknown or
    /// disabled app, an inactive user): 401 `invalid_token`, or 400
    /// `invalid_request` when the credential lacks a part it needs.
    case credentialRefused(CredentialRefusal)
    /// A Connect context token (`qsh` = `context-qsh`) on a route without
    /// `contextJwt`: 401 `invalid_token`.
    case contextTokenNotAllowed
    /// The path has a `%2F` inside a segment and the matched route does not accept
    /// one: 400 `invalid_request`.
    case encodedSlash
    /// The route serves only the app its `appKeyParameter` names, and the
    /// credential is another app's or has none: 403 `insufficient_permission`.
    case notCallingApp(parameter: String, credentialHasApp: Bool)
    /// No rule matches the method and path: 404 `not_found`.
    case noRoute(method: String, path: String)
    /// No credential (or no acting user) on a route that is not public: 401.
    case unauthenticated
    /// The credential holds none of the route's scope alternatives, even after
    /// implication: 403 `insufficient_scope`, naming the scopes that would pass.
    case insufficientScope(required: [Scope])
    /// The acting user lacks the permission on the resource: 403 `insufficient_permission`.
    case insufficientPermission(permission: String, resource: Resource)
    /// The request does not say which resource it is about (a missing query
    /// parameter, say), so no grant can cover it: 403 `insufficient_permission`.
    case resourceUndetermined(permission: String, template: String, reason: String)

    /// The HTTP status of the gateway's answer.
    public var status: Int {
        switch self {
        case .credentialRefused(let refusal): refusal.status
        case .encodedSlash: 400
        case .noRoute: 404
        case .unauthenticated, .contextTokenNotAllowed: 401
        case .insufficientScope, .insufficientPermission, .resourceUndetermined, .notCallingApp: 403
        }
    }

    /// The `error` member of the JSON body.
    public var error: String {
        switch self {
        case .credentialRefused(let refusal): refusal.status == 400 ? "invalid_request" : "invalid_token"
        case .contextTokenNotAllowed: "invalid_token"
        case .encodedSlash: "invalid_request"
        case .noRoute: "not_found"
        case .unauthenticated: "unauthorized"
        case .insufficientScope: "insufficient_scope"
        case .insufficientPermission, .resourceUndetermined, .notCallingApp: "insufficient_permission"
        }
    }

    /// A stable name for metrics and the audit log (finer than `error`).
    public var code: String {
        switch self {
        case .credentialRefused(let refusal): refusal.code
        case .contextTokenNotAllowed: "context_qsh_not_allowed"
        case .encodedSlash: "encoded_slash"
        case .noRoute: "no_route"
        case .unauthenticated: "unauthenticated"
        case .insufficientScope: "insufficient_scope"
        case .insufficientPermission: "insufficient_permission"
        case .resourceUndetermined: "resource_undetermined"
        case .notCallingApp: "not_calling_app"
        }
    }

    /// The `error_description`: what was missing, never a credential.
    public var message: String {
        switch self {
        case .credentialRefused(let refusal):
            refusal.message
        case .contextTokenNotAllowed:
            "a context token (qsh \"context-qsh\") is not accepted on this route"
        case .encodedSlash:
            "the path has an encoded / (%2F) inside a segment, which this route does not accept"
        case .noRoute(let method, let path):
            "no route for \(method) \(path)"
        case .unauthenticated:
            "this route needs a credential"
        case .insufficientScope(let required):
            required.isEmpty
                ? "no scope grants access to this route"
                : "needs one of the scopes: \(required.map(\.name).joined(separator: ", "))"
        case .insufficientPermission(let permission, let resource):
            "needs permission \(permission) on \(resource)"
        case .resourceUndetermined(let permission, let template, let reason):
            "needs permission \(permission) on \(template), but \(reason)"
        case .notCallingApp(let parameter, let credentialHasApp):
            credentialHasApp
                ? "this route serves only the calling app: {\(parameter)} must be its key"
                : "this route serves only the calling app: {\(parameter)} must be its key, and this credential has no app"
        }
    }

    public var description: String { "\(error) (\(status)): \(message)" }
}

/// Why a credential was refused before the decision: the caller found it out
/// (the app unknown or disabled, the user inactive), the decision reports it.
public struct CredentialRefusal: Hashable, Sendable {
    /// A stable snake_case name for logs and metrics (`app_disabled`).
    public let code: String
    /// What went wrong, never the credential itself.
    public let message: String
    /// 401, or 400 when the credential lacks a part it needs.
    public let status: Int

    public init(code: String, message: String, status: Int = 401) {
        self.code = code
        self.message = message
        self.status = status
    }
}
