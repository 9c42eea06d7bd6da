import Grants

/// Writes what is known about a finished request: its access-log line, its
/// audit entry (a refusal, an endpoint's answer, or an allowed proxied request
/// where `auditAllowedRequests` asks for it) and the request metrics
/// (docs/gateway.md §8). Both data paths record here.
final class RequestRecorder: Sendable {
    let accessLog: AccessLog
    let audit: AuditWriter?
    let metrics: GatewayMetrics?

    init(accessLog: AccessLog, audit: AuditWriter?, metrics: GatewayMetrics?) {
        self.accessLog = accessLog
        self.audit = audit
        self.metrics = metrics
    }

    func record(_ record: AccessRecord) {
        logAndAudit(record)
        metrics?.request(route: record.route ?? "", method: record.method, status: record.status)
    }

    /// `record(_:)` for a client connection that keeps its last request counter in `memo`.
    func record(_ record: AccessRecord, memo: inout RequestCounterMemo) {
        logAndAudit(record)
        metrics?.request(route: record.route ?? "", method: record.method, status: record.status, memo: &memo)
    }

    private func logAndAudit(_ record: AccessRecord) {
        accessLog.write(record)
        if let audit, !record.allowed || record.isEndpoint || record.auditsAllowed {
            audit.record(record.auditEntry(at: UnixMilliseconds.now()))
        }
    }
}
