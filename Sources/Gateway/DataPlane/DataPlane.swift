import Foundation
import Logging
import NIOCore

/// What every connection's `DataPlaneHandler` shares (docs/gateway.md §3): the
/// policy in force, the authenticator, the upstream pools and where finished
/// requests are recorded. Immutable; the mutable parts are per connection or
/// per event loop.
final class DataPlane: Sendable {
    let live: LivePolicy
    let authenticator: Authenticator
    let pools: UpstreamPools
    let recorder: RequestRecorder
    /// The paths of the gateway's own endpoints: these go to Hummingbird's router.
    let endpointPaths: EndpointPaths
    /// Whether the main listener speaks TLS: `X-Forwarded-Proto: https` (docs/tls.md §1).
    let isSecure: Bool
    /// For upstream failures, at warning level.
    let logger: Logger
    /// Whether the byte path (`ByteFrontHandler`) serves the requests it can; on
    /// unless `LINKGATE_BYTE_PATH=off` (docs/gateway.md §3, "The byte path").
    let usesBytePath: Bool

    init(
        live: LivePolicy, authenticator: Authenticator, pools: UpstreamPools, recorder: RequestRecorder,
        endpointPaths: Set<String>, isSecure: Bool = false, logger: Logger,
        usesBytePath: Bool = DataPlane.bytePathFromEnvironment()
    ) {
        self.live = live
        self.authenticator = authenticator
        self.pools = pools
        self.recorder = recorder
        self.endpointPaths = EndpointPaths(endpointPaths)
        self.isSecure = isSecure
        self.logger = logger
        self.usesBytePath = usesBytePath
    }

    /// `LINKGATE_BYTE_PATH`: `off` keeps every request on NIO's HTTP handlers.
    static func bytePathFromEnvironment() -> Bool {
        ProcessInfo.processInfo.environment["LINKGATE_BYTE_PATH"] != "off"
    }

    var metrics: GatewayMetrics? { recorder.metrics }
}
