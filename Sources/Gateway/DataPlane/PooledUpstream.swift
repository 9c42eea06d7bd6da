import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// What an upstream connection's handler (`UpstreamHandler`) reports to the
/// exchange using it, in the parts its pipeline reads: NIO's response parts for
/// the fast path's `ProxyExchange` and the Hummingbird path's `StreamedExchange`,
/// bytes for the byte path's `ByteExchange`.
protocol UpstreamExchange<Part>: TimedExchange {
    associatedtype Part
    /// Whether the upstream may be read: the client side can take more.
    var mayReadUpstream: Bool { get }
    func upstreamRead(_ part: Part)
    func upstreamReadComplete()
    func upstreamBecameWritable()
    /// The connection closed (`error` nil) or failed.
    func upstreamClosed(error: (any Error)?)
}

/// The Hummingbird path's `Upstream` (Basic and OAuth 1.0a requests): the same
/// per-loop pools, connections, timeouts and retry as the fast path, so both
/// paths send the upstream exactly the bytes decided on (docs/gateway.md §3,
/// "Forwarding"). The request body is written from the responder's task, each
/// write awaited; the response body streams back through an async sequence that
/// reads the upstream only as Hummingbird consumes it.
struct PooledUpstream: Upstream {
    let pools: UpstreamPools
    let group: any EventLoopGroup
    let metrics: GatewayMetrics?

    func forward(
        _ request: Request, to target: UpstreamTarget, rawPath: Substring, rawQuery: Substring?, headers: HTTPHeaders,
        logger: Logger
    ) async throws(GatewayError) -> Response {
        let loop = group.next()
        guard let pool = pools.pool(for: loop) else {
            throw GatewayError(.serverError, "no upstream pool for this event loop")
        }
        var headers = headers
        let hasBody = ForwardedHeaders.frame(
            &headers, host: target.authority, contentLength: request.headers[.contentLength],
            hasTransferEncoding: request.headers[.transferEncoding] != nil)
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue),
            uri: target.requestTarget(rawPath: rawPath, rawQuery: rawQuery), headers: headers)
        let started = ContinuousClock.now
        let exchange = StreamedExchange(pool: pool, target: target, head: head, hasBody: hasBody)
        loop.execute { exchange.start() }
        do {
            if hasBody {
                for try await buffer in request.body { try await exchange.send(.body(.byteBuffer(buffer))) }
                try await exchange.send(.end(nil))
            }
            let answer = try await exchange.responseHead.get()
            metrics?.upstreamResponse(
                upstream: target.name, slot: target.responseTimer, duration: ContinuousClock.now - started)
            return Response(
                status: HTTPResponse.Status(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase),
                headers: ForwardedHeaders.response(from: answer.headers),
                body: ResponseBody(asyncSequence: exchange.body))
        } catch {
            loop.execute { exchange.cancel() }
            let failure = (error as? GatewayError) ?? .upstreamUnreachable(target.name)
            metrics?.upstreamLatency(
                upstream: target.name, outcome: failure.reason, duration: ContinuousClock.now - started)
            logger.warning("upstream request failed", metadata: failure.upstreamMetadata(target.name))
            throw failure
        }
    }
}

/// One request of the Hummingbird path on a pooled upstream connection. Its
/// state lives on the pool's event loop; the responder's task talks to it only
/// through futures, the channel and the body sequence.
final class StreamedExchange: UpstreamExchange, @unchecked Sendable {
    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >

    private let pool: UpstreamPool
    private let target: UpstreamTarget
    private let head: HTTPRequestHead
    /// A bodiless idempotent request is sent again once if a reused connection was closed under it.
    private let isRetryable: Bool
    private let hasBody: Bool
    private var retried = false
    private var isConnected = false
    private var wasReused = false
    private var connection: UpstreamConnection?
    private let connected: EventLoopPromise<Void>
    private let headPromise: EventLoopPromise<HTTPResponseHead>
    private var source: Body.Source
    let body: Body
    private var sawHead = false
    private var isOver = false
    private var upstreamKeepsAlive = false
    private var requestComplete: Bool
    private var wantsMore = true
    private(set) var deadline: NIODeadline
    var sweepSlot = -1

    init(pool: UpstreamPool, target: UpstreamTarget, head: HTTPRequestHead, hasBody: Bool) {
        self.pool = pool
        self.target = target
        self.head = head
        self.isRetryable = !hasBody && head.method.isIdempotent
        self.hasBody = hasBody
        self.requestComplete = !hasBody
        connected = pool.eventLoop.makePromise()
        headPromise = pool.eventLoop.makePromise()
        let demand = BodyDemand()
        let made = Body.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: true, delegate: demand)
        source = made.source
        body = made.sequence
        deadline = .now() + .milliseconds(Int64(target.requestTimeoutMs))
        demand.exchange = self
    }

    var responseHead: EventLoopFuture<HTTPResponseHead> { headPromise.futureResult }

    var mayReadUpstream: Bool { wantsMore }

    func start() {
        pool.started(self)
        pool.acquire(target) { [self] result in attach(result) }
    }

    private func attach(_ result: Result<UpstreamConnection, any Error>) {
        switch result {
        case .success(let connection):
            guard !isOver else {
                pool.release(connection)
                return
            }
            self.connection = connection
            wasReused = connection.served > 0
            connection.handler.exchange = self
            connection.channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if !hasBody { connection.channel.write(HTTPClientRequestPart.end(nil), promise: nil) }
            connection.channel.flush()
            touch()
            settleConnected(nil)
        case .failure(let error):
            fail(ProxyExchange.failure(error, target: target))
        }
    }

    /// Writes a part of the request body, once connected; completes when it is written.
    func send(_ part: HTTPClientRequestPart) async throws {
        try await connected.futureResult.get()
        let channel = try await pool.eventLoop.submit { [self] () throws -> any Channel in
            guard let connection, !isOver else { throw GatewayError.upstreamUnreachable(target.name) }
            touch()
            return connection.channel
        }.get()
        try await channel.writeAndFlush(part).get()
        if case .end = part { pool.eventLoop.execute { [self] in requestComplete = true } }
    }

    func upstreamRead(_ part: HTTPClientResponsePart) {
        touch()
        switch part {
        case .head(let answer):
            guard !sawHead, !isOver else { return }
            let code = answer.status.code
            if code < 200 {
                guard code == 101 else { return }
                fail(
                    GatewayError(
                        .upstreamSwitchedProtocols,
                        "the upstream \(target.name) switched protocols, which was not asked for"))
                return
            }
            sawHead = true
            upstreamKeepsAlive = answer.isKeepAlive
            headPromise.succeed(answer)
        case .body(let buffer):
            guard sawHead, !isOver else { return }
            if case .stopProducing = source.yield(buffer) { wantsMore = false }
        case .end:
            guard sawHead, !isOver else { return }
            connection?.served += 1
            source.finish()
            finish(reusable: upstreamKeepsAlive && requestComplete)
        }
    }

    func upstreamReadComplete() {}

    func upstreamBecameWritable() {}

    /// Hummingbird wants more of the body: read the upstream again.
    func resume() {
        wantsMore = true
        connection?.handler.resumeReading()
    }

    func upstreamClosed(error: (any Error)?) {
        guard !isOver else { return }
        if !sawHead, wasReused, isRetryable, !retried {
            retried = true
            if let connection { pool.discard(connection) }
            connection = nil
            pool.acquire(target, fresh: true) { [self] result in attach(result) }
            return
        }
        if sawHead {
            source.finish(error ?? GatewayError.upstreamUnreachable(target.name))
            finish(reusable: false)
        } else {
            fail(error.map { ProxyExchange.failure($0, target: target) } ?? .upstreamUnreachable(target.name))
        }
    }

    func timedOut() {
        guard !isOver else { return }
        if sawHead {
            if !wantsMore {
                touch()
                return
            }
            source.finish(GatewayError.upstreamTimeout(target.name, milliseconds: target.requestTimeoutMs))
            finish(reusable: false)
        } else {
            fail(.upstreamTimeout(target.name, milliseconds: target.requestTimeoutMs))
        }
    }

    /// The responder gave up (its body failed, or it was cancelled).
    func cancel() {
        guard !isOver else { return }
        fail(.upstreamUnreachable(target.name))
    }

    private func touch() {
        deadline = .now() + .milliseconds(Int64(target.requestTimeoutMs))
    }

    private func fail(_ error: GatewayError) {
        guard !isOver else { return }
        settleConnected(error)
        if !sawHead { headPromise.fail(error) }
        source.finish(error)
        finish(reusable: false)
    }

    /// Completes `connected` once: the body writer waits on it.
    private func settleConnected(_ error: GatewayError?) {
        guard !isConnected else { return }
        isConnected = true
        if let error { connected.fail(error) } else { connected.succeed() }
    }

    private func finish(reusable: Bool) {
        isOver = true
        settleConnected(nil)
        pool.finished(self)
        guard let connection else { return }
        self.connection = nil
        if reusable {
            pool.release(connection)
        } else {
            pool.discard(connection)
        }
    }

    /// Told by the body sequence when its consumer wants more, or went away.
    final class BodyDemand: NIOAsyncSequenceProducerDelegate, @unchecked Sendable {
        weak var exchange: StreamedExchange?

        func produceMore() {
            guard let exchange else { return }
            exchange.pool.eventLoop.execute { exchange.resume() }
        }

        func didTerminate() {
            guard let exchange else { return }
            exchange.pool.eventLoop.execute { exchange.cancel() }
        }
    }
}
