import ServiceLifecycle

/// Writes the access log's batch every `interval`, and once more when the
/// gateway stops. Listed first in the service group, so it stops last: after the
/// main listener has drained and logged its last requests.
struct AccessLogFlusher: Service {
    let log: AccessLog
    var interval: Duration = .milliseconds(100)

    func run() async throws {
        defer { log.flush() }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: interval)
            log.flush()
        }
    }
}
