import Foundation
import Grants
import Hummingbird
import JWT
import Logging
import NIOCore
import NIOPosix
import Policy
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
        /// The authz listener for forward authorization; nil: off (docs/forward-auth.md).
        public var authzListen: ListenAddress?
        public var environment: [String: String]
        public var drainTimeout: Duration = .seconds(10)
        public var pollInterval: Duration = .milliseconds(250)
        /// The access log is at `info`: a higher level (`warning`…) turns it off.
        public var logLevel: Logger.Level = .info
        /// Told what the server does as it starts and stops; the executable prints it.
        public var events: @Sendable (GatewayEvent) -> Void

        public init(
            folder: String, listen: ListenAddress, adminListen: ListenAddress, environment: [String: String],
            events: @escaping @Sendable (GatewayEvent) -> Void
        ) {
            self.folder = folder
            self.listen = listen
            self.adminListen = adminListen
            self.environment = environment
            self.events = events
        }
    }

    let configuration: Configuration
    let live: LivePolicy
    let metrics: GatewayMetrics
    let logger: Logger
    let grants: GrantServices

    init(
        configuration: Configuration, initial: PolicySnapshot, grants: GrantServices, metrics: GatewayMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.live = LivePolicy(initial)
        self.grants = grants
        self.metrics = metrics
        self.logger = logger
    }

    /// Serves `policy` with the grants kept in `store` until SIGTERM or SIGINT, then
    /// drains and closes the store.
    /// - Throws: `GatewaySetupError` for what stops the gateway from starting (an
    ///   upstream URL, the signing key, the page templates); store errors as they come.
    public static func serve(_ configuration: Configuration, policy: CompiledPolicy, store: Store) async throws {
        let snapshot: PolicySnapshot
        let grants: GrantServices
        let metrics = GatewayMetrics.bootstrap()
        let logger = Logger(label: "linkgate")
        do {
            grants = try await GrantServices.start(
                store: store, settings: policy.document.gateway, folder: configuration.folder, metrics: metrics,
                logger: logger)
            snapshot = try PolicySnapshot(policy, generation: 1, services: grants)
        } catch {
            await store.close()
            throw Self.setupError(error, folder: configuration.folder)
        }
        let server = GatewayServer(
            configuration: configuration, initial: snapshot, grants: grants, metrics: metrics, logger: logger)
        try await server.run()
    }

    /// `error` as a setup error: the ones that already speak to the operator keep
    /// their message; an upstream problem is prefixed with the policy folder.
    private static func setupError(_ error: any Error, folder: String) -> any Error {
        switch error {
        case let error as UpstreamTarget.Problem: GatewaySetupError("\(folder): \(error)")
        case let error as SigningKeyError: GatewaySetupError(error.message)
        case let error as JWTError: GatewaySetupError("gateway.json: /accessTokens: \(error.reason)")
        default: error
        }
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns.
    func run() async throws {
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        let pages: PageRenderer
        do {
            pages = try await PageRenderer.load()
        } catch {
            await grants.store.close()
            throw error
        }
        let certificates: ListenerCertificates
        do {
            certificates = try ListenerCertificates(live.snapshot.policy.document.gateway)
        } catch {
            await grants.store.close()
            throw GatewaySetupError("gateway.json: \(error.message)")
        }
        let pools = UpstreamPools(
            group: eventLoopGroup, connectionSettings: { [live] in live.snapshot.policy.document.gateway.connections })
        let throttle = LoginThrottle()
        let accessLog = AccessLog(isEnabled: configuration.logLevel <= .info)
        let recorder = RequestRecorder(accessLog: accessLog, audit: grants.audit, metrics: metrics)
        let authenticator = Authenticator(grants: grants, throttle: throttle)
        let authorizer = RequestAuthorizer(authenticator: authenticator, metrics: metrics)
        let proxy = ProxyResponder(
            live: live, authorizer: authorizer,
            upstream: PooledUpstream(pools: pools, group: eventLoopGroup, metrics: metrics))
        let endpoints = GatewayEndpoints(live: live, grants: grants, metrics: metrics, pages: pages, throttle: throttle)
        let router = Self.mainRouter(
            proxy: proxy, endpoints: endpoints,
            accessLog: AccessLogMiddleware(live: live, recorder: recorder, logger: logger))
        let connectionLimit: @Sendable () -> Int = { [live] in live.snapshot.policy.document.gateway.connections.max }
        let plane = DataPlane(
            live: live, authenticator: authenticator, pools: pools, recorder: recorder,
            endpointPaths: Set(router.routes.map(\.path.description)), isSecure: certificates[.main] != nil,
            logger: logger)
        let main = Application(
            router: router,
            server: .gateway(
                plane: plane, connections: ConnectionCount(limit: connectionLimit), tls: certificates[.main]),
            configuration: .init(
                address: .hostname(configuration.listen.host, port: configuration.listen.port),
                serverName: nil),
            onServerRunning: { [events = configuration.events] channel in
                events(.listening("main", channel, scheme: certificates.scheme(.main)))
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        let adminConnections = ConnectionCount(limit: connectionLimit)
        let admin = Application(
            router: AdminRoutes.router(live: live, metrics: metrics, store: grants.store),
            server: .admin(connections: adminConnections, tls: certificates[.admin]),
            configuration: .init(
                address: .hostname(configuration.adminListen.host, port: configuration.adminListen.port),
                serverName: nil),
            onServerRunning: { [events = configuration.events] channel in
                events(.listening("admin", channel, scheme: certificates.scheme(.admin)))
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        let authz = configuration.authzListen.map { address in
            Application(
                router: Self.authzRouter(
                    live: live, authorizer: authorizer,
                    accessLog: AccessLogMiddleware(live: live, recorder: recorder, logger: logger)),
                server: .admin(connections: ConnectionCount(limit: connectionLimit), tls: certificates[.authz]),
                configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
                onServerRunning: { [events = configuration.events] channel in
                    events(.listening("authz", channel, scheme: certificates.scheme(.authz)))
                },
                eventLoopGroupProvider: .shared(eventLoopGroup),
                logger: logger)
        }
        let reloader = PolicyReloader(
            folder: configuration.folder, environment: configuration.environment, live: live, metrics: metrics,
            logger: logger, pollInterval: configuration.pollInterval,
            ignoring: grants.store.location.sqlitePath.map { [$0] } ?? [],
            certificates: CertificateReloader(certificates: certificates.all, metrics: metrics, logger: logger))
        var groupConfiguration = ServiceGroupConfiguration(
            // Graceful shutdown runs in reverse order: the main listener drains
            // first; the upstream clients close, and the access log's last batch is
            // written, only after it has.
            services: [
                .init(service: AccessLogFlusher(log: accessLog)),
                .init(service: UpstreamClientsService(pools: pools)),
                .init(service: grants.audit),
                .init(
                    service: RevocationSync(
                        store: grants.store, revocations: grants.revocations, metrics: metrics, logger: logger)),
                .init(service: reloader),
                .init(service: admin),
                .init(service: main),
            ] + (authz.map { [.init(service: $0)] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.drainTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        configuration.events(.policyLoaded(folder: configuration.folder, summary: live.snapshot.summary))
        configuration.events(
            .storeOpened(
                location: "\(grants.store.location)", algorithm: grants.signingKey.algorithm.rawValue,
                keyID: grants.signingKey.keyID ?? "-"))
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            await grants.store.close()
            throw error
        }
        await grants.store.close()
        configuration.events(.stopped)
    }
}

extension GatewayServer {
    /// The main listener's request path: the access log around everything, then
    /// the gateway's own endpoints where a path is exactly theirs, else the proxy.
    static func mainRouter(
        proxy: ProxyResponder, endpoints: GatewayEndpoints, accessLog: AccessLogMiddleware
    ) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        // Built first: building them records each endpoint's methods for the dispatch.
        let collections = endpoints.routeCollections
        router.add(middleware: accessLog)
        router.add(middleware: EndpointDispatch(proxy: proxy, endpointMethods: endpoints.methods.table))
        for routes in collections { router.addRoutes(routes) }
        return router
    }

    /// The authz listener's request path: the access log around one middleware
    /// that answers every request with a decision (docs/forward-auth.md).
    static func authzRouter(
        live: LivePolicy, authorizer: RequestAuthorizer, accessLog: AccessLogMiddleware
    ) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: accessLog)
        router.add(middleware: AuthzMiddleware(live: live, authorizer: authorizer))
        return router
    }
}

/// Closes the upstream pools' idle connections after the servers have drained.
struct UpstreamClientsService: Service {
    let pools: UpstreamPools

    func run() async throws {
        try? await gracefulShutdown()
        await pools.shutdown()
    }
}
