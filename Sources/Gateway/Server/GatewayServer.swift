import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `linkgate serve`: the main listener (the proxy), the admin listener, the
/// policy reloader and the upstream clients, run as one service group that
/// SIGTERM or SIGINT shuts down gracefully (in-flight requests drain for at
/// most `drainTimeout`).
public struct GatewayServer: Sendable {
    public struct Configuration: Sendable {
        public var folder: String
        public var listen: ListenAddress
        public var adminListen: ListenAddress
        public var environment: [String: String]
        public var drainTimeout: Duration = .seconds(10)
        public var pollInterval: Duration = .milliseconds(250)
    }

    let configuration: Configuration
    let live: LivePolicy
    let metrics: GatewayMetrics
    let logger: Logger
    let grants: GrantServices

    init(configuration: Configuration, initial: PolicySnapshot, grants: GrantServices, metrics: GatewayMetrics,
         logger: Logger) {
        self.configuration = configuration
        self.live = LivePolicy(initial)
        self.grants = grants
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns.
    public func run() async throws {
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        let forwarder = UpstreamForwarder(eventLoopGroup: eventLoopGroup, metrics: metrics)
        let pages = try await PageRenderer.load()
        let throttle = LoginThrottle()
        let proxy = ProxyResponder(
            live: live,
            authenticator: Authenticator(verifiers: [
                ConnectJWTAuthentication(), BearerTokenAuthentication(grants: grants), OAuth1Authentication(grants: grants),
                BasicAuthentication(grants: grants, throttle: throttle),
            ]),
            forwarder: forwarder, metrics: metrics, accessLog: Logger(label: "linkgate.access"),
            endpoints: GatewayEndpoints(live: live, grants: grants, metrics: metrics, pages: pages, throttle: throttle),
            audit: grants.audit)
        let main = Application(
            responder: proxy,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ExpectContinueHandler()], idleTimeout: .seconds(75))),
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port),
                                 serverName: nil),
            onServerRunning: { channel in Self.announce("main", channel: channel) },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        let admin = Application(
            router: AdminRoutes.router(live: live, metrics: metrics, store: grants.store),
            configuration: .init(address: .hostname(configuration.adminListen.host, port: configuration.adminListen.port),
                                 serverName: nil),
            onServerRunning: { channel in Self.announce("admin", channel: channel) },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        let reloader = PolicyReloader(
            folder: configuration.folder, environment: configuration.environment, live: live, metrics: metrics,
            logger: logger, pollInterval: configuration.pollInterval,
            ignoring: grants.store.location.sqlitePath.map { [$0] } ?? [])
        var groupConfiguration = ServiceGroupConfiguration(
            // Graceful shutdown runs in reverse order: the main listener drains
            // first, and the upstream clients close only after it has.
            services: [
                .init(service: UpstreamClientsService(forwarder: forwarder)),
                .init(service: grants.audit),
                .init(service: RevocationSync(
                    store: grants.store, revocations: grants.revocations, metrics: metrics, logger: logger)),
                .init(service: reloader),
                .init(service: admin),
                .init(service: main),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.drainTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        writeToStandardOutput("linkgate: policies from \(configuration.folder): \(live.snapshot.summary)")
        writeToStandardOutput("linkgate: store \(grants.store.location), access tokens signed \(grants.signingKey.algorithm.rawValue) "
            + "(kid \(grants.signingKey.keyID ?? "-"))")
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            await grants.store.close()
            throw error
        }
        await grants.store.close()
        writeToStandardOutput("linkgate: stopped")
    }

    /// The startup line for a listener, with the port it really got.
    private static func announce(_ name: String, channel: any Channel) {
        let address = channel.localAddress
        let host = address?.ipAddress ?? "?"
        let shown = host.contains(":") ? "[\(host)]" : host
        writeToStandardOutput("linkgate: \(name) listener on http://\(shown):\(address?.port ?? 0)")
    }
}

/// Shuts the upstream clients down after the servers have drained.
struct UpstreamClientsService: Service {
    let forwarder: UpstreamForwarder

    func run() async throws {
        try? await gracefulShutdown()
        await forwarder.shutdown()
    }
}
