import Foundation
import Grants
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWT
import Logging
import NIOCore
import NIOEmbedded
import Policy
import Testing

@testable import Gateway

/// The gateway's whole request path, composed in-process as `linkgate serve`
/// composes it (`GatewayServer.mainRouter`): the example site's policy, a store
/// in memory, the real endpoints, pages and authentication, and an in-memory
/// upstream in place of the forwarder. Requests go through Hummingbird's router
/// test client, or through the fast path's `DataPlaneHandler` on an embedded
/// channel (`FastPathAgreementTests`); nothing listens on a port and no process
/// is spawned.
struct RequestPathHarness {
    static let reportsKey = "com.example.reports"
    static let automationKey = "com.example.automation"
    static let alice = "5b10ac8d82e05b22cc7d4ef5"
    static let bob = "5b10a2844c20165700ede21g"

    let policy: CompiledPolicy
    let store: Store
    let upstream: InMemoryUpstream
    let accessLog: CapturedLog
    let application: Application<RouterResponder<GatewayRequestContext>>
    /// The authz listener's request path (docs/forward-auth.md), on the same policy and store.
    let authzApplication: Application<RouterResponder<GatewayRequestContext>>
    /// The fast path's shared state, on the same policy, authenticator and access log.
    let plane: DataPlane
    /// The event loop of the embedded channels the fast path is driven on.
    let loop: EmbeddedEventLoop

    init(upstream: InMemoryUpstream = InMemoryUpstream()) async throws {
        let policy = try PolicyLoader.compile(folder: ExampleSite.folder, environment: [:])
        let store = try await Store.open(.sqlite(path: ":memory:"))
        let grants = try await GrantServices.start(
            store: store, settings: policy.document.gateway, folder: ExampleSite.folder, metrics: nil,
            logger: Logger(label: "test"))
        let live = LivePolicy(try PolicySnapshot(policy, generation: 1, services: grants))
        let throttle = LoginThrottle()
        let authenticator = Authenticator(grants: grants, throttle: throttle)
        let authorizer = RequestAuthorizer(authenticator: authenticator, metrics: nil)
        let proxy = ProxyResponder(live: live, authorizer: authorizer, upstream: upstream)
        let endpoints = GatewayEndpoints(
            live: live, grants: grants, metrics: nil, pages: try await PageRenderer.load(), throttle: throttle)
        let accessLog = CapturedLog()
        let recorder = RequestRecorder(accessLog: accessLog.log, audit: nil, metrics: nil)
        let router = GatewayServer.mainRouter(
            proxy: proxy, endpoints: endpoints,
            accessLog: AccessLogMiddleware(live: live, recorder: recorder, logger: Logger(label: "test")))
        loop = EmbeddedEventLoop()
        plane = DataPlane(
            live: live, authenticator: authenticator, pools: UpstreamPools(group: loop), recorder: recorder,
            endpointPaths: Set(router.routes.map(\.path.description)), logger: Logger(label: "test"))
        self.policy = policy
        self.store = store
        self.upstream = upstream
        self.accessLog = accessLog
        self.application = Application(router: router)
        self.authzApplication = Application(
            router: GatewayServer.authzRouter(
                live: live, authorizer: authorizer,
                accessLog: AccessLogMiddleware(live: live, recorder: recorder, logger: Logger(label: "test"))))
    }

    /// Runs `body` with a client of the composed request path, then closes the store.
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await run(application, body)
    }

    /// Runs `body` with a client of the authz listener's request path, then closes the store.
    func testAuthz<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await run(authzApplication, body)
    }

    private func run<Value>(
        _ application: Application<RouterResponder<GatewayRequestContext>>,
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let value: Value
        do {
            value = try await application.test(.router, body)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return value
    }

    /// A Connect JWT of `app` for exactly this request (or with the given `qsh`).
    func connectToken(
        app: String = reportsKey, issuer: String? = nil, method: String, target: String,
        issuedAt: Int64 = UnixTime.now(), lifetime: Int64 = 180, qsh: String? = nil
    ) throws -> String {
        let secret = try #require(policy.app(key: app)?.sharedSecret?.bytes)
        let signer = ConnectJWTSigner(issuer: issuer ?? app, key: try JWTKey.secret(secret, algorithm: .hs256))
        if let qsh { return try signer.token(qsh: qsh, issuedAt: issuedAt, lifetime: lifetime) }
        let question = target.firstIndex(of: "?")
        let path = question.map { target[..<$0] } ?? target[...]
        let query = question.map { target[target.index(after: $0)...] } ?? ""
        return try signer.token(method: method, rawPath: path, rawQuery: query, issuedAt: issuedAt, lifetime: lifetime)
    }

    /// A 2LOi assertion of the automation app for `user`, as Atlassian's libraries make it.
    func assertion(user: String = alice) throws -> String {
        let secret = try #require(policy.app(key: Self.automationKey)?.sharedSecret?.bytes)
        let site = policy.document.gateway.baseUrl
        let now = UnixTime.now()
        let claims = JSONObject([
            ("iss", .string("urn:atlassian:connect:clientid:automation-2loi-client")),
            ("sub", .string("urn:atlassian:connect:useraccountid:\(user)")),
            ("tnt", .string(site)), ("aud", .string(site + "/oauth2/token")),
            ("iat", .integer(now)), ("exp", .integer(now + 60)), ("jti", .string(SecureRandom.identifier())),
        ])
        return try JWTSigner(key: try JWTKey.secret(secret, algorithm: .hs256)).sign(claims)
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }
}

extension TestClientProtocol {
    /// A request with `headers` given as pairs, so a name may repeat.
    func send(
        _ method: HTTPRequest.Method, _ target: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return try await execute(
            uri: target, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
    }
}
