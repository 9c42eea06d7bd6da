import NIOCore
import NIOHTTP1
import NIOSSL

/// One request forwarded on the fast path (docs/gateway.md §3, "Forwarding"):
/// the client's connection and a pooled upstream connection glued together on
/// one event loop. Bodies stream both ways; each side reads only while the other
/// can take what it reads. Failures before the response head are answered with
/// 502/504; after it, the client connection closes.
final class ProxyExchange: UpstreamExchange {
    enum Response { case awaitingHead, streaming, complete, failed }

    private unowned let client: DataPlaneHandler
    private let clientContext: ChannelHandlerContext
    private let pool: UpstreamPool
    let target: UpstreamTarget
    private let head: HTTPRequestHead
    private let clientVersion: HTTPVersion
    /// The client did not ask to close after this request (`Connection: close`, or HTTP/1.0 without keep-alive).
    private let clientKeepsAlive: Bool
    private var record: AccessRecord
    private let started: ContinuousClock.Instant
    /// An idempotent request without a body, sent again once on a fresh connection
    /// when a reused one turns out closed by the upstream.
    private let isRetryable: Bool
    private var retried = false

    /// When the upstream's silence becomes a timeout: moved on by every read and write.
    private(set) var deadline: NIODeadline
    var sweepSlot = -1
    private var connection: UpstreamConnection?
    private var wasReused = false
    /// Request parts that arrived before the connection.
    private var pending: [HTTPClientRequestPart] = []
    private var requestComplete = false
    private(set) var response = Response.awaitingHead
    private var upstreamKeepsAlive = false

    init(
        client: DataPlaneHandler, context: ChannelHandlerContext, pool: UpstreamPool, target: UpstreamTarget,
        head: HTTPRequestHead, client clientHead: HTTPRequestHead, record: AccessRecord,
        started: ContinuousClock.Instant, hasBody: Bool
    ) {
        self.client = client
        self.clientContext = context
        self.pool = pool
        self.target = target
        self.head = head
        self.clientVersion = clientHead.version
        self.clientKeepsAlive = clientHead.isKeepAlive
        self.record = record
        self.started = started
        self.isRetryable = !hasBody && head.method.isIdempotent
        self.deadline = .now() + .milliseconds(Int64(target.requestTimeoutMs))
    }

    /// Both the request and the response are over: the client connection is free for the next request.
    var isDone: Bool { requestComplete && (response == .complete || response == .failed) }

    /// The request's body is still coming and still wanted.
    var isReceivingRequest: Bool { !requestComplete && (response == .awaitingHead || response == .streaming) }

    /// Whether the client may be read: the upstream can take what is read.
    var mayReadClient: Bool {
        guard response == .awaitingHead || response == .streaming else { return true }
        return connection?.channel.isWritable ?? false
    }

    /// Whether the upstream may be read: the client can take what is read.
    var mayReadUpstream: Bool { clientContext.channel.isWritable }

    func start() {
        pool.started(self)
        pool.acquire(target) { [self] result in connected(result) }
    }

    private func connected(_ result: Result<UpstreamConnection, any Error>) {
        switch result {
        case .success(let connection):
            guard response == .awaitingHead else {
                connection.channel.close(promise: nil)
                return
            }
            self.connection = connection
            wasReused = connection.served > 0
            connection.handler.exchange = self
            let channel = connection.channel
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            for part in pending { channel.write(part, promise: nil) }
            pending = []
            channel.flush()
            touch()
            client.resumeReading()
        case .failure(let error):
            fail(Self.failure(error, target: target))
        }
    }

    // MARK: The client's side

    func requestBody(_ buffer: ByteBuffer) {
        send(.body(.byteBuffer(buffer)))
    }

    func requestEnd() {
        requestComplete = true
        send(.end(nil))
        connection?.channel.flush()
        if response == .complete || response == .failed { client.exchangeProgressed(self) }
    }

    private func send(_ part: HTTPClientRequestPart) {
        guard response == .awaitingHead || response == .streaming else { return }
        touch()
        if let connection {
            connection.channel.write(part, promise: nil)
        } else {
            pending.append(part)
        }
    }

    func clientReadComplete() { connection?.channel.flush() }

    func clientBecameWritable() { connection?.handler.resumeReading() }

    /// The client went away: the upstream connection cannot be reused.
    func clientClosed() {
        guard response == .awaitingHead || response == .streaming else { return }
        response = .failed
        dropConnection()
        pool.finished(self)
    }

    // MARK: The upstream's side

    func upstreamRead(_ part: HTTPClientResponsePart) {
        touch()
        switch part {
        case .head(let upstreamHead):
            guard response == .awaitingHead else { return }
            respond(upstreamHead)
        case .body(let buffer):
            guard response == .streaming else { return }
            clientContext.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        case .end:
            guard response == .streaming else { return }
            response = .complete
            connection?.served += 1
            // The handler moves on first: writing the end may deliver the next pipelined request.
            finishResponse()
            let written = clientContext.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !clientKeepsAlive {
                let context = NIOLoopBound(clientContext, eventLoop: clientContext.eventLoop)
                written.whenComplete { _ in context.value.close(promise: nil) }
            }
        }
    }

    /// Sends the upstream's response head on to the client and records the request.
    private func respond(_ upstreamHead: HTTPResponseHead) {
        let code = Int(upstreamHead.status.code)
        if code < 200 {
            // The gateway answered `Expect` itself; other interim answers are not relayed.
            guard code == 101 else { return }
            fail(
                GatewayError(
                    .upstreamSwitchedProtocols,
                    "the upstream \(target.name) switched protocols, which was not asked for"))
            return
        }
        response = .streaming
        upstreamKeepsAlive = upstreamHead.isKeepAlive
        var headers = upstreamHead.headers
        ForwardedHeaders.filterResponse(&headers)
        if !clientKeepsAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        if !headers.contains(name: ForwardedHeaders.requestId) {
            headers.add(name: ForwardedHeaders.requestId, value: record.requestId)
        }
        let latency = ContinuousClock.now - started
        client.plane.metrics?.upstreamResponse(
            upstream: target.name, slot: target.responseTimer, duration: latency)
        record.status = code
        record.latency = latency
        client.plane.recorder.record(record)
        let answer = HTTPResponseHead(version: clientVersion, status: upstreamHead.status, headers: headers)
        clientContext.write(NIOAny(HTTPServerResponsePart.head(answer)), promise: nil)
    }

    func upstreamReadComplete() { clientContext.flush() }

    func upstreamBecameWritable() { client.resumeReading() }

    /// The upstream connection closed (`error` nil) or failed.
    func upstreamClosed(error: (any Error)?) {
        switch response {
        case .awaitingHead:
            if wasReused, isRetryable, !retried {
                retry()
            } else {
                fail(error.map { Self.failure($0, target: target) } ?? .upstreamUnreachable(target.name))
            }
        case .streaming:
            abort()
        case .complete, .failed:
            break
        }
    }

    /// Sends the request again on a new connection: the reused one was closed
    /// by the upstream before it answered (it never saw the request, or saw an
    /// idempotent one without a body).
    private func retry() {
        retried = true
        dropConnection()
        if requestComplete { pending = [.end(nil)] }
        pool.acquire(target, fresh: true) { [self] result in connected(result) }
    }

    /// The upstream did not answer, or stopped sending, within `requestTimeoutMs`.
    func timedOut() {
        switch response {
        case .awaitingHead:
            fail(.upstreamTimeout(target.name, milliseconds: target.requestTimeoutMs))
        case .streaming where !mayReadUpstream:
            // The upstream is held back because the client is not reading: not the upstream's silence.
            touch()
        case .streaming:
            abort()
        case .complete, .failed:
            break
        }
    }

    private func touch() {
        deadline = .now() + .milliseconds(Int64(target.requestTimeoutMs))
    }

    // MARK: Ending

    /// The response is complete: the upstream connection goes back to the pool
    /// when the whole request was sent and the upstream keeps it alive.
    private func finishResponse() {
        pool.finished(self)
        if let connection {
            self.connection = nil
            if requestComplete && upstreamKeepsAlive {
                pool.release(connection)
            } else {
                // Not kept alive, or answered before the whole request body was sent.
                pool.discard(connection)
            }
        }
        client.exchangeProgressed(self)
    }

    /// No response head was sent: the client gets the error's answer.
    private func fail(_ error: GatewayError) {
        guard response == .awaitingHead else { return }
        response = .failed
        pool.finished(self)
        dropConnection()
        client.plane.metrics?.upstreamLatency(
            upstream: target.name, outcome: error.reason, duration: ContinuousClock.now - started)
        client.plane.logger.warning("upstream request failed", metadata: error.upstreamMetadata(target.name))
        client.exchangeProgressed(self)
        client.answer(error, record: record, started: started, closing: !requestComplete || !clientKeepsAlive)
    }

    /// The response head was sent and the rest cannot follow: both connections close.
    private func abort() {
        response = .failed
        pool.finished(self)
        dropConnection()
        clientContext.close(promise: nil)
    }

    /// Lets go of the upstream connection, which cannot serve another request.
    private func dropConnection() {
        guard let connection else { return }
        self.connection = nil
        pool.discard(connection)
    }

    /// Timeouts are a 504; an answer that is not HTTP, refusals, resets and everything else a 502.
    static func failure(_ error: any Error, target: UpstreamTarget) -> GatewayError {
        if let error = error as? GatewayError { return error }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .upstreamTimeout(target.name, milliseconds: target.connectTimeoutMs)
        }
        if error is HTTPParserError { return .upstreamNotHTTP(target.name) }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            let name = target.tls?.serverName ?? target.host
            return .upstreamTLSFailed(target.name, detail: "\(error) (the certificate is verified for \(name))")
        }
        return .upstreamUnreachable(target.name)
    }
}

extension HTTPMethod {
    /// RFC 9110 §9.2.2: a request that may be sent again without changing more than once would.
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}
