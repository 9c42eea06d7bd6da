/// One decision, as the audit log keeps it (docs/gateway.md §8): never a token.
public struct AuditEntry: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case allow, deny
    }

    /// Unix time in milliseconds.
    public var at: Int64
    public var requestId: String
    public var appKey: String?
    public var accountId: String?
    /// `jwt`, `jwt-bearer`, `authorization-code`, `basic`, `oauth1-…`, `anonymous`, or `none` when no credential was verified.
    public var credential: String
    /// The matched route's template, or the gateway endpoint (`/oauth2/token`).
    public var route: String?
    public var method: String
    public var verdict: Verdict
    /// `allowed`, `token_issued`, or why not (`insufficient_scope`, `qsh_mismatch`, `invalid_grant`…).
    public var reason: String
    public var status: Int

    public init(
        at: Int64, requestId: String, appKey: String?, accountId: String?, credential: String, route: String?,
        method: String, verdict: Verdict, reason: String, status: Int
    ) {
        self.at = at
        self.requestId = requestId
        self.appKey = appKey
        self.accountId = accountId
        self.credential = credential
        self.route = route
        self.method = method
        self.verdict = verdict
        self.reason = reason
        self.status = status
    }
}

/// Which audit entries to read (`linkgate audit`).
public struct AuditQuery: Sendable {
    public var sinceMilliseconds: Int64?
    public var appKey: String?
    public var accountId: String?
    public var limit: Int

    public init(sinceMilliseconds: Int64? = nil, appKey: String? = nil, accountId: String? = nil, limit: Int = 1000) {
        self.sinceMilliseconds = sinceMilliseconds
        self.appKey = appKey
        self.accountId = accountId
        self.limit = limit
    }
}
