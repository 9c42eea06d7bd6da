import Logging

/// What one access-log line says about a request: never a credential.
struct AccessRecord {
    let requestId: String
    let method: String
    var appKey: String?
    var accountId: String?
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
                "status": .stringConvertible(status),
                "latency_ms": .string(Self.milliseconds(latency)),
                "reason": .string(reason),
            ])
    }

    /// `12.345`: milliseconds with three decimals, without Foundation's formatter.
    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(0, duration.nanoseconds / 1_000)
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
