import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Sends allowed requests to their upstream through AsyncHTTPClient, streaming
/// bodies both ways with backpressure, and maps upstream failures to 502/504.
///
/// One pooled client per distinct (connect, request) timeout pair, made on first
/// use and kept, so keep-alive connections are reused across requests and reloads.
final class UpstreamForwarder: Upstream {
    private struct TimeoutKey: Hashable { let connectMs: Int, requestMs: Int }

    private let eventLoopGroup: any EventLoopGroup
    private let clients = Mutex<[TimeoutKey: HTTPClient]>([:])
    private let metrics: GatewayMetrics?

    init(eventLoopGroup: any EventLoopGroup, metrics: GatewayMetrics?) {
        self.eventLoopGroup = eventLoopGroup
        self.metrics = metrics
    }

    /// Sends the request and returns the upstream's answer with its body still streaming.
    func forward(
        _ request: Request, to target: UpstreamTarget, rawPath: Substring, rawQuery: Substring?, headers: HTTPHeaders,
        logger: Logger
    ) async throws(GatewayError) -> Response {
        var outgoing = HTTPClientRequest(url: target.url(rawPath: rawPath, rawQuery: rawQuery))
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers = headers
        if let length = Self.bodyLength(request.headers) {
            outgoing.body = .stream(request.body, length: length)
        }
        let client = client(for: target)
        let started = ContinuousClock.now
        do {
            // No logger for the client: its per-request metadata costs more than it tells here.
            let response = try await client.execute(outgoing, timeout: .milliseconds(Int64(target.requestTimeoutMs)))
            // The client's Upgrade was never forwarded: relaying a 101 would desync its connection.
            if response.status.code == 101 {
                throw GatewayError(
                    .upstreamSwitchedProtocols,
                    "the upstream \(target.name) switched protocols, which was not asked for")
            }
            metrics?.upstreamLatency(
                upstream: target.name, outcome: "response", duration: ContinuousClock.now - started)
            return Response(
                status: HTTPResponse.Status(
                    code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                headers: ForwardedHeaders.response(from: response.headers),
                body: ResponseBody(asyncSequence: response.body))
        } catch {
            let failure = Self.failure(error, target: target)
            metrics?.upstreamLatency(
                upstream: target.name, outcome: failure.reason, duration: ContinuousClock.now - started)
            logger.warning(
                "upstream request failed",
                metadata: ["upstream": .string(target.name), "error": .string(String(describing: error))])
            throw failure
        }
    }

    /// nil when the request has no body (neither `Content-Length` nor `Transfer-Encoding`).
    static func bodyLength(_ fields: HTTPFields) -> HTTPClientRequest.Body.Length? {
        if let value = fields[.contentLength], let length = Int(value) {
            return length > 0 ? .known(Int64(length)) : nil
        }
        return fields[.transferEncoding] == nil ? nil : .unknown
    }

    /// Timeouts are a 504; refusals, resets and everything else a 502.
    static func failure(_ error: any Error, target: UpstreamTarget) -> GatewayError {
        if let error = error as? GatewayError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .upstreamTimeout(target.name, milliseconds: target.requestTimeoutMs)
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return .upstreamTimeout(target.name, milliseconds: target.connectTimeoutMs)
            default: break
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .upstreamTimeout(target.name, milliseconds: target.connectTimeoutMs)
        }
        return .upstreamUnreachable(target.name)
    }

    private func client(for target: UpstreamTarget) -> HTTPClient {
        let key = TimeoutKey(connectMs: target.connectTimeoutMs, requestMs: target.requestTimeoutMs)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(Int64(key.connectMs)), read: .milliseconds(Int64(key.requestMs))),
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024),
                decompression: .disabled)
            configuration.httpVersion = .http1Only
            // No distributed tracing is set up; without a tracer the client skips a span per request.
            configuration.tracing.tracer = nil
            let client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
            clients[key] = client
            return client
        }
    }

    /// Closes every pooled connection; called once the servers have drained.
    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
