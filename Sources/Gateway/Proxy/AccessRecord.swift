import Grants
import Logging

/// What one access-log line says about a request: never a credential.
struct AccessRecord {
    let requestId: String
    let method: String
    var appKey: String?
    var accountId: String?
    /// The credential kind (`jwt`, `jwt-bearer`…), or as presented when it was not verified.
    var credential = "anonymous"
    /// Whether the gateway let the request through (or granted what an endpoint was asked for).
    var allowed = false
    /// The matched route's path template.
    var route: String?
    var status = 0
    var latency: Duration = .zero
    /// `allowed`, or why not (`insufficient_scope`, `qsh_mismatch`, `upstream_timeout`…).
    var reason = "allowed"

    func log(to logger: Logger) {
        logger.info(
            "request",
            metadata: [
                "request_id": .string(requestId),
                "method": .string(method),
                "route": .string(route ?? "-"),
                "app": .string(appKey ?? "-"),
                "user": .string(accountId ?? "-"),
                "auth": .string(credential),
                "verdict": .string(allowed ? "allow" : "deny"),
                "status": .stringConvertible(status),
                "latency_ms": .string(Self.milliseconds(latency)),
                "reason": .string(reason),
            ])
    }

    /// The audit log's entry for this request (CONTRACT §8): never a token.
    func auditEntry(at milliseconds: Int64) -> AuditEntry {
        AuditEntry(at: milliseconds, requestId: requestId, appKey: appKey, accountId: accountId, credential: credential,
                   route: route, method: method, verdict: allowed ? .allow : .deny, reason: reason, status: status)
    }

    /// `12.345`: milliseconds with three decimals, without Foundation's formatter.
    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(0, duration.nanoseconds / 1_000)
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
