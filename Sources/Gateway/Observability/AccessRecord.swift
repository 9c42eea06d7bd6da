import Grants
import Logging
import Synchronization

/// What one access-log line says about a request: never a credential.
struct AccessRecord: Sendable {
    var requestId = ""
    var method = ""
    var appKey: String?
    var accountId: String?
    /// The credential kind (`jwt`, `jwt-bearer`…), or as presented when it was not verified.
    var credential = "anonymous"
    /// Whether the gateway let the request through (or granted what an endpoint was asked for).
    var allowed = false
    /// The matched route's path template, or the endpoint's path.
    var route: String?
    /// Answered by one of the gateway's own endpoints rather than the proxy.
    var isEndpoint = false
    /// `authz` for a decision asked on the authz listener; nil on the main listener.
    var mode: String?
    /// An allowed proxied request the policy asks to audit (`auditAllowedRequests`).
    var auditsAllowed = false
    var status = 0
    var latency: Duration = .zero
    /// `allowed`, or why not (`insufficient_scope`, `qsh_mismatch`, `upstream_timeout`…).
    var reason = "allowed"

    /// The audit log's entry for this request (docs/gateway.md §8, docs/grants.md): never a token.
    func auditEntry(at milliseconds: Int64) -> AuditEntry {
        AuditEntry(
            at: milliseconds, requestId: requestId, appKey: appKey, accountId: accountId, credential: credential,
            route: route, method: method, verdict: allowed ? .allow : .deny, reason: reason, status: status)
    }
}

/// The access record of one request, shared by the handlers that learn its
/// facts (who, which route, why) and the middleware that writes it out
/// (`AccessLogMiddleware`). One per request, in its `GatewayRequestContext`.
final class AccessNotes: Sendable {
    private let state = Mutex(AccessRecord())

    /// A copy of what has been noted so far.
    var record: AccessRecord { state.withLock { $0 } }

    /// Notes several facts at once.
    func note(_ change: (inout AccessRecord) -> Void) { state.withLock { change(&$0) } }

    var requestId: String { state.withLock { $0.requestId } }

    var appKey: String? {
        get { state.withLock { $0.appKey } }
        set { state.withLock { $0.appKey = newValue } }
    }

    var accountId: String? {
        get { state.withLock { $0.accountId } }
        set { state.withLock { $0.accountId = newValue } }
    }

    var credential: String {
        get { state.withLock { $0.credential } }
        set { state.withLock { $0.credential = newValue } }
    }

    var allowed: Bool {
        get { state.withLock { $0.allowed } }
        set { state.withLock { $0.allowed = newValue } }
    }

    var route: String? {
        get { state.withLock { $0.route } }
        set { state.withLock { $0.route = newValue } }
    }

    var reason: String {
        get { state.withLock { $0.reason } }
        set { state.withLock { $0.reason = newValue } }
    }
}
