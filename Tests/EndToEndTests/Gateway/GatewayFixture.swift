import AsyncHTTPClient
import Foundation
import JWT
import NIOCore
import NIOHTTP1
import Testing

/// A running gateway on a copy of the example site, in front of a real
/// `linkgate-echo`, all on 127.0.0.1 with ports the system picked.
///
/// The copy adds what the tests need: a `contextJwt` route, an upload route,
/// an upstream that refuses connections and one that times out quickly.
final class GatewayFixture: @unchecked Sendable {
    static let reportsKey = "com.example.reports"
    static let automationKey = "com.example.automation"

    let folder: URL
    let echo: ServerProcess
    private(set) var gateway: ServerProcess
    private(set) var port: Int
    private(set) var adminPort: Int
    let echoPort: Int
    let client: HTTPClient
    /// `--store` for every gateway of this fixture; nil: gateway.json's (an SQLite file in the policy copy).
    let store: String?
    let listen: String

    /// - Parameters:
    ///   - store: the `--store` URL; nil for the SQLite file of the policy copy.
    ///   - edit: changes to the policy copy before the gateway starts.
    ///   - listen: the main listener (a port the system picks by default).
    init(store: String? = nil, listen: String = "127.0.0.1:0", edit: (URL) throws -> Void = { _ in }) async throws {
        self.store = store
        self.listen = listen
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("linkgate-e2e-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: ExampleSite.folder, toPath: folder.path)
        // A fresh store for every fixture: `make run` leaves its SQLite store in policies/var/.
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("var"))
        echo = try ServerProcess(LinkgateProcess.echoBinary, ["--listen", "127.0.0.1:0"], name: "linkgate-echo")
        echoPort = try await echo.port(after: "listening on http://127.0.0.1")
        try Self.addTestRoutes(to: folder, echoPort: echoPort, closedPort: try Self.closedPort())
        try edit(folder)
        (gateway, port, adminPort) = try await Self.startGateway(folder: folder, store: store, listen: listen)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit {
        try? client.syncShutdown()
        gateway.stop()
        echo.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A `linkgate serve` on the policy copy and the fixture's store, with its main and admin ports.
    static func startGateway(
        folder: URL, store: String?, listen: String = "127.0.0.1:0"
    ) async throws -> (ServerProcess, Int, Int) {
        let gateway = try ServerProcess(
            LinkgateProcess.binary,
            ["serve", "--policies", folder.path, "--listen", listen, "--admin-listen", "127.0.0.1:0"]
                + (store.map { ["--store", $0] } ?? []),
            name: "linkgate serve")
        let port = try await gateway.port(after: "main listener on http")
        let adminPort = try await gateway.port(after: "admin listener on http")
        return (gateway, port, adminPort)
    }

    /// Another gateway on the same policy folder and store (stop it yourself, or let it be reaped).
    func secondGateway() async throws -> (process: ServerProcess, port: Int) {
        let (process, port, _) = try await Self.startGateway(folder: folder, store: store)
        return (process, port)
    }

    /// Kills the gateway with SIGKILL and starts a new one on the same folder and store.
    func restartGateway(signal: Int32 = SIGKILL) async throws {
        gateway.signal(signal)
        _ = await gateway.waitForExit(timeout: 15)
        gateway.stop()
        (gateway, port, adminPort) = try await Self.startGateway(folder: folder, store: store, listen: listen)
    }

    // MARK: Policy

    /// A port nothing listens on: bound once by us, then closed.
    static func closedPort() throws -> Int {
        guard let port = bound(port: 0) else {
            throw ServerProcess.StartupError(description: "could not find a free port")
        }
        return port
    }

    /// Binds 127.0.0.1:`port` (0: any free port) and closes it again: the port bound, or nil.
    static func bound(port: Int) -> Int? {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let succeeded = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
            }
        }
        return succeeded ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    static func addTestRoutes(to folder: URL, echoPort: Int, closedPort: Int) throws {
        try editJSON(folder.appendingPathComponent("routes.json")) { routes in
            var upstreams = routes["upstreams"] as! [String: Any]
            upstreams["jira"] = [
                "url": "http://127.0.0.1:\(echoPort)", "connectTimeoutMs": 1000, "requestTimeoutMs": 30000,
            ]
            upstreams["down"] = [
                "url": "http://127.0.0.1:\(closedPort)", "connectTimeoutMs": 1000, "requestTimeoutMs": 2000,
            ]
            upstreams["slow"] = [
                "url": "http://127.0.0.1:\(echoPort)/prefix/", "connectTimeoutMs": 1000, "requestTimeoutMs": 400,
            ]
            routes["upstreams"] = upstreams
            var list = routes["routes"] as! [Any]
            list +=
                [
                    [
                        "methods": ["GET"], "path": "/context/{rest*}", "upstream": "jira", "scopes": ["READ"],
                        "contextJwt": true,
                    ],
                    ["methods": ["PUT", "GET"], "path": "/bulk/{name}", "upstream": "jira", "scopes": ["READ"]],
                    ["methods": ["GET"], "path": "/down/{rest*}", "upstream": "down", "public": true],
                    ["methods": ["GET"], "path": "/slow/{rest*}", "upstream": "slow", "public": true],
                ] as [Any]
            routes["routes"] = list
        }
    }

    /// Adds upstream `name` at `127.0.0.1:port` (connect timeout 1 s, `requestTimeoutMs`)
    /// and a route `path` to it for `methods`, needing scope READ, to the policy in `folder`.
    static func addRoute(
        to folder: URL, upstream name: String, port: Int, path: String, methods: [String], requestTimeoutMs: Int
    ) throws {
        try editJSON(folder.appendingPathComponent("routes.json")) { routes in
            var upstreams = routes["upstreams"] as! [String: Any]
            upstreams[name] = [
                "url": "http://127.0.0.1:\(port)", "connectTimeoutMs": 1000, "requestTimeoutMs": requestTimeoutMs,
            ]
            routes["upstreams"] = upstreams
            routes["routes"] =
                (routes["routes"] as! [Any]) + [
                    ["methods": methods, "path": path, "upstream": name, "scopes": ["READ"]]
                ]
        }
    }

    static func editJSON(_ url: URL, _ change: (inout [String: Any]) throws -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        try change(&object)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try replace(url, with: data)
    }

    /// Replaces a policy file at once: written beside the policy folder, then renamed
    /// over the file. The folder never holds a partial or a temporary file, so a
    /// running gateway sees one change, and reloads once (docs/gateway.md §2).
    static func replace(_ url: URL, with data: Data) throws {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent(
            "linkgate-e2e-edit-\(UUID().uuidString)")
        try data.write(to: staging)
        guard rename(staging.path, url.path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: staging)
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "rename to \(url.path): errno \(code)"])
        }
    }

    /// Sets `"enabled"` in an app file (`apps/NAME.json`).
    func setApp(_ file: String, enabled: Bool) throws {
        try Self.editJSON(folder.appendingPathComponent("apps/\(file)")) { $0["enabled"] = enabled }
    }

    // MARK: Credentials

    /// A Connect JWT for `method target`, signed with the app's shared secret as the app would.
    func connectToken(
        app file: String = "reports.json", issuer: String = GatewayFixture.reportsKey, method: String,
        target: String, issuedAt: Int64 = UnixTime.now(), lifetime: Int64 = 180, qsh: String? = nil,
        secret: [UInt8]? = nil
    ) throws -> String {
        let key = try JWTKey.secret(try secret ?? ExampleSite.sharedSecret(ofAppFile: file), algorithm: .hs256)
        let signer = ConnectJWTSigner(issuer: issuer, key: key)
        if let qsh { return try signer.token(qsh: qsh, issuedAt: issuedAt, lifetime: lifetime) }
        let question = target.firstIndex(of: "?")
        let path = question.map { target[..<$0] } ?? target[...]
        let query = question.map { target[target.index(after: $0)...] } ?? ""
        return try signer.token(method: method, rawPath: path, rawQuery: query, issuedAt: issuedAt, lifetime: lifetime)
    }

    // MARK: Requests

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        }

        /// The echo's view of the forwarded request's headers, lower-cased name → values.
        var forwardedHeaders: [String: [String]] {
            var result: [String: [String]] = [:]
            for pair in (json["headers"] as? [[String]]) ?? [] {
                result[pair[0].lowercased(), default: []].append(pair[1])
            }
            return result
        }

        var forwardedTarget: String? { json["target"] as? String }
    }

    func send(
        _ method: HTTPMethod = .GET, _ target: String, headers: [(String, String)] = [], body: String? = nil,
        port: Int? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? self.port)\(target)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// A request carrying a Connect JWT made for it, in the `Authorization` header.
    func sendSigned(
        _ method: HTTPMethod = .GET, _ target: String, app: String = "reports.json",
        issuer: String = GatewayFixture.reportsKey, headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> Reply {
        let token = try connectToken(app: app, issuer: issuer, method: method.rawValue, target: target)
        return try await send(method, target, headers: [("Authorization", "JWT \(token)")] + headers, body: body)
    }

    func admin(_ path: String) async throws -> Reply { try await send(.GET, path, port: adminPort) }

    /// How many requests the echo upstream has served.
    func upstreamCount() async throws -> Int {
        Int(try await send(.GET, "/__echo/count", port: echoPort).body) ?? -1
    }

    /// How many requests the echo upstream is handling now (docs/gateway.md §9).
    func upstreamInFlight() async throws -> Int {
        Int(try await send(.GET, "/__echo/inflight", port: echoPort).body) ?? -1
    }

    /// Waits until the echo upstream handles at least `count` requests at once, asking
    /// every 20 ms for at most `timeout` seconds; whether it did.
    func waitForUpstreamInFlight(_ count: Int, timeout: TimeInterval = 5) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while try await upstreamInFlight() < count {
            guard Date() < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    // MARK: Reloads

    /// Waits until the gateway logs a reload with `result` that leaves `generation` in
    /// force (the line's `generation=` and `result=` metadata, docs/gateway.md §2), at
    /// most `timeout` seconds; whether it did.
    func waitForReload(generation: Int, result: String = "success", timeout: TimeInterval = 5) async -> Bool {
        await gateway.waitForOutput(timeout: timeout) { Self.hasReloadLine($0, generation: generation, result: result) }
    }

    /// Whether `log` has a reload line with exactly these `generation` and `result` metadata.
    static func hasReloadLine(_ log: String, generation: Int, result: String) -> Bool {
        log.split(separator: "\n").contains { line in
            guard line.contains("policy reload") else { return false }
            let words = line.split(separator: " ")
            return words.contains("generation=\(generation)") && words.contains("result=\(result)")
        }
    }

    /// Waits until the reloader has started: from then on SIGHUP reloads rather than ends the gateway.
    func waitForReloader(timeout: TimeInterval = 5) async -> Bool {
        await gateway.waitForOutput(timeout: timeout) { $0.contains("policy reloader started") }
    }

    /// The value of one sample in `/metrics`, by its full name with labels.
    func metric(_ sample: String) async throws -> Double? {
        let text = try await admin("/metrics").body
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }
}
