import Metrics
import Prometheus
import Synchronization

/// The metric families of docs/gateway.md §7, reported through swift-metrics into a
/// Prometheus registry that the admin listener renders at `/metrics`. A class: the
/// proxy path reaches it on every request, and a struct of handles would be
/// retained handle by handle each time it is copied.
final class GatewayMetrics: Sendable {
    static let requests = "linkgate_requests_total"
    static let decisions = "linkgate_decisions_total"
    static let tokenGrants = "linkgate_token_grants_total"
    static let upstreamLatency = "linkgate_upstream_latency_seconds"
    static let reloads = "linkgate_policy_reloads_total"
    static let storeErrors = "linkgate_store_errors_total"
    static let certificateReloads = "linkgate_tls_certificate_reloads_total"
    static let bytePath = "linkgate_byte_path_total"

    let registry: PrometheusCollectorRegistry
    // Handles made once per label set: the registry's own lookup builds label
    // arrays and takes its lock on every call.
    private let requestCounters = HandleCache<RequestLabels, Metrics.Counter>()
    private let decisionCounters = HandleCache<DecisionLabels, Metrics.Counter>()
    private let latencyTimers = HandleCache<LatencyLabels, Metrics.Timer>()

    private struct RequestLabels: Hashable, Sendable { let route: String, method: String, status: Int }
    private struct DecisionLabels: Hashable, Sendable { let allowed: Bool, reason: String }
    private struct LatencyLabels: Hashable, Sendable { let upstream: String, outcome: String }

    private let bytePathForwarded: Metrics.Counter
    private let bytePathHandedOff: Metrics.Counter
    /// The decision counter of every allowed request, made once (no lock, no hashed labels).
    private let allowedDecisions: Metrics.Counter

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        bytePathForwarded = Counter(label: Self.bytePath, dimensions: [("event", "forwarded")])
        bytePathHandedOff = Counter(label: Self.bytePath, dimensions: [("event", "handed_off")])
        allowedDecisions = Counter(label: Self.decisions, dimensions: [("outcome", "allow"), ("reason", "allowed")])
    }

    /// Bootstraps swift-metrics with a Prometheus factory: once per process.
    static func bootstrap() -> GatewayMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        let metrics = GatewayMetrics(registry: registry)
        metrics.declareFamilies()
        return metrics
    }

    /// Families that may stay at zero for a while, so dashboards see them from the start.
    private func declareFamilies() {
        for result in ["success", "failure"] {
            Counter(label: Self.reloads, dimensions: [("result", result)]).increment(by: 0)
        }
        Counter(label: Self.storeErrors).increment(by: 0)
        bytePathForwarded.increment(by: 0)
        bytePathHandedOff.increment(by: 0)
        for grant in ["jwt_bearer", "authorization_code", "refresh_token"] {
            Counter(label: Self.tokenGrants, dimensions: [("grant_type", grant)]).increment(by: 0)
        }
    }

    /// One answered request, by route template (empty when no route matched) and status.
    func request(route: String, method: String, status: Int) {
        requestCounter(route: route, method: method, status: status).increment()
    }

    /// `request(route:method:status:)` through `memo`, the counter of the label set
    /// a client connection used last: its next request, with the same labels as a
    /// rule, takes no lock and hashes no label.
    func request(route: String, method: String, status: Int, memo: inout RequestCounterMemo) {
        if let counter = memo.counter, memo.status == status, memo.route == route, memo.method == method {
            return counter.increment()
        }
        let counter = requestCounter(route: route, method: method, status: status)
        memo = RequestCounterMemo(route: route, method: method, status: status, counter: counter)
        counter.increment()
    }

    /// The request counter of a label set, made once.
    private func requestCounter(route: String, method: String, status: Int) -> Metrics.Counter {
        requestCounters.handle(RequestLabels(route: route, method: method, status: status)) {
            Counter(
                label: Self.requests, dimensions: [("route", route), ("method", method), ("status", String(status))])
        }
    }

    /// One decision: `allow`, or `deny` with the reason (`insufficient_scope`, `qsh_mismatch`…).
    func decision(allowed: Bool, reason: String) {
        if allowed, reason == "allowed" { return allowedDecisions.increment() }
        decisionCounters.handle(DecisionLabels(allowed: allowed, reason: reason)) {
            Counter(label: Self.decisions, dimensions: [("outcome", allowed ? "allow" : "deny"), ("reason", reason)])
        }.increment()
    }

    /// Time from sending the request upstream to receiving its response head.
    func upstreamLatency(upstream: String, outcome: String, duration: Duration) {
        latencyTimers.handle(LatencyLabels(upstream: upstream, outcome: outcome)) {
            Timer(label: Self.upstreamLatency, dimensions: [("upstream", upstream), ("outcome", outcome)])
        }.recordNanoseconds(duration.nanoseconds)
    }

    /// `upstreamLatency` of an answer (outcome `response`) from `upstream`, through
    /// the timer its `slot` keeps (`UpstreamTarget.responseTimer`).
    func upstreamResponse(upstream: String, slot: borrowing MetricSlot<Metrics.Timer>, duration: Duration) {
        slot.handle {
            Timer(label: Self.upstreamLatency, dimensions: [("upstream", upstream), ("outcome", "response")])
        }.recordNanoseconds(duration.nanoseconds)
    }

    /// A TLS listener's certificate and key loaded again (`success`), or refused (`failure`).
    func certificateReload(listener: String, succeeded: Bool) {
        Counter(
            label: Self.certificateReloads,
            dimensions: [("listener", listener), ("result", succeeded ? "success" : "failure")]
        ).increment()
    }

    func reload(succeeded: Bool) {
        Counter(label: Self.reloads, dimensions: [("result", succeeded ? "success" : "failure")]).increment()
    }

    func tokenGrant(type: String) {
        Counter(label: Self.tokenGrants, dimensions: [("grant_type", type)]).increment()
    }

    func storeError() { Counter(label: Self.storeErrors).increment() }

    /// The byte path forwarded a request, or handed a connection to NIO's handlers.
    func bytePath(forwarded: Bool) {
        (forwarded ? bytePathForwarded : bytePathHandedOff).increment()
    }

    /// The Prometheus text exposition of every family.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The request counter a client connection used last, with its labels
/// (`GatewayMetrics.request(route:method:status:memo:)`).
struct RequestCounterMemo {
    // Fields, not an optional tuple: comparing them copies no string.
    fileprivate var route = ""
    fileprivate var method = ""
    fileprivate var status = 0
    fileprivate var counter: Metrics.Counter?
}

/// A metric handle made on first use and read without a lock after that, kept by
/// what it measures (an upstream): no hashed labels on the request's path.
struct MetricSlot<Handle: AnyObject & Sendable>: ~Copyable, Sendable {
    private let handle = AtomicLazyReference<Handle>()

    init() {}

    func handle(_ make: () -> Handle) -> Handle {
        handle.load() ?? handle.storeIfNil(make())
    }
}

/// Metric handles by label set, made on first use. Label sets are bounded by
/// the policy (routes, reasons, upstreams), so the cache is too.
final class HandleCache<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handle]>([:])

    func handle(_ key: Key, make: () -> Handle) -> Handle {
        handles.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }
}
