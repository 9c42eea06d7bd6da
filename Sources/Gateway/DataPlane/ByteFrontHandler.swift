import Grants
import NIOCore
import NIOHTTP1

/// The byte path (docs/gateway.md §3, "The byte path"): the main listener's first
/// handler, in front of NIO's HTTP/1.1 server handlers. It reads each request head
/// from the connection's bytes (`RawRequestHead`, strict), and forwards the
/// requests of the usual shape (`ByteRequestShape`) whose credential needs no
/// store and which the decision allows, as bytes, on the event loop
/// (`ByteExchange`); an OAuth 1.0a request the decision allows waits for its
/// nonce to be spent first, without holding the event loop. At the first request
/// it does not take (another shape, a gateway endpoint, a credential the store
/// must check, a refusal, a nonce not spent, bytes its reader refuses) it hands
/// the connection to NIO's handlers: the bytes from that request's head on, and
/// everything after, pass through untouched, and `DataPlaneHandler` serves them
/// as it always did. Requests are taken one at a time, so pipelined answers keep
/// their order; a refused request is decided again on the other path, which
/// answers it (the decision is the same function).
final class ByteFrontHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum State {
        /// Reading the next head.
        case reading
        /// An allowed OAuth 1.0a request waits for its nonce to be spent; its head
        /// is still at the start of `pending`.
        case spendingNonce
        /// A request forwarded on the byte path.
        case exchanging(ByteExchange)
        /// NIO's handlers serve the connection from here on.
        case handedOff
        /// Closing after an answer.
        case closing
    }

    let plane: DataPlane
    private let dataPlaneHandler: DataPlaneHandler
    private(set) var state = State.reading
    private var context: ChannelHandlerContext?
    /// The pool of the connection's event loop, found once: a connection never changes loops.
    private var pool: UpstreamPool?
    private var clientAddress: String?
    /// Bytes received and not yet used: a head still incomplete, or pipelined requests.
    private var pending: ByteBuffer?
    /// A `read` held back while a request is forwarded and `pending` is full.
    private var heldRead = HeldRead()
    /// The server is shutting down: the connection closes after the answer in flight.
    private var quiescing = false
    /// NIO's automatic read is off until the connection is handed off (`handlerAdded`).
    private var readsItself = false
    /// The storage of the last upstream head and answer head, for the next request's.
    private var upstreamHeads = RecycledBuffer()
    var answerHeads = RecycledBuffer()
    /// The channel's allocator, read once: `Channel.allocator` takes the pipeline's
    /// channel and the socket channel's cached allocator, retained, each time.
    private(set) var allocator = ByteBufferAllocator()
    /// The request counter of its last answer, for the next one's.
    var requestCounter = RequestCounterMemo()
    /// The lists of fields of the last request head and answer head, for the next ones.
    private var requestFields: [RawRequestHead.Field] = []
    var answerFields: [RawRequestHead.Field] = []

    /// The most a head may take before the byte path leaves it to NIO's handlers
    /// (which answer 431 past `RequestHead.maxHeaderBytes`).
    static let headLimit = RequestHead.maxHeaderBytes + 4 * 1024

    init(plane: DataPlane, dataPlaneHandler: DataPlaneHandler) {
        self.plane = plane
        self.dataPlaneHandler = dataPlaneHandler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        pool = plane.pools.pool(for: context.eventLoop)
        clientAddress = context.channel.remoteAddress?.ipAddress
        // While the byte path serves the connection, it asks for each read itself, from
        // its place near the pipeline's head: NIO's automatic read would start at the
        // tail and pass every handler behind this one, once a request. Over TLS,
        // the TLS handler in front needs the reads of its handshake, so NIO keeps them.
        guard !plane.isSecure, (try? context.channel.syncOptions?.setOption(.autoRead, value: false)) != nil else {
            return
        }
        readsItself = true
        if context.channel.isActive { context.read() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if readsItself { context.read() }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Whether the client connection closes after the answer in flight.
    var closesAfterAnswer: Bool { quiescing }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .handedOff:
            context.fireChannelRead(data)
        case .closing:
            break
        case .reading, .spendingNonce, .exchanging:
            var buffer = unwrapInboundIn(data)
            if pending == nil {
                pending = buffer
            } else {
                pending!.writeBuffer(&buffer)
            }
            if case .reading = state { readRequest(context: context) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .handedOff = state {
            context.fireChannelReadComplete()
        } else if readsItself {
            read(context: context)
        }
    }

    /// Takes the next request from `pending`: forwards it, waits for the rest of
    /// its head, or hands the connection to NIO's handlers.
    private func readRequest(context: ChannelHandlerContext) {
        guard case .reading = state, let bytes = pending, bytes.readableBytes > 0 else { return }
        switch RawRequestHead.scan(bytes, limit: Self.headLimit, reusing: &requestFields) {
        case .incomplete:
            return
        case .refused:
            handOff(context: context)
        case .head(let head, let length):
            guard let (exchange, nonce) = admit(head) else {
                handOff(context: context)
                return
            }
            if let nonce {
                spend(nonce, for: exchange, headLength: length, context: context)
            } else {
                forward(exchange, headLength: length, context: context)
            }
        }
    }

    /// A checked OAuth 1.0a request's nonce, and the ledger that spends it.
    private struct NonceToSpend {
        let nonce: OAuth1Nonce
        let ledger: OAuth1NonceLedger
    }

    /// Reads, verifies and decides `head` with the functions `DataPlaneHandler`
    /// uses: the exchange that forwards it, not yet started, with an OAuth 1.0a
    /// request's nonce, spent before the request is forwarded. Nil when the request
    /// is not one the byte path takes or is refused (NIO's path then answers it,
    /// counting the refusal). What the exchange needs goes straight into it, with
    /// no struct in between to copy.
    private func admit(_ head: RawRequestHead) -> (ByteExchange, NonceToSpend?)? {
        let started = ContinuousClock.now
        guard let shape = ByteRequestShape.read(head), let context, let pool else { return nil }
        let target = head.string(head.target)
        let pathEnd = target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        guard !plane.endpointPaths.contains(target[..<pathEnd]) else { return nil }
        let snapshot = plane.live.snapshot(through: &pool.keptSnapshot)
        guard var line = try? RequestLine.parse(method: shape.isHeadRequest ? "HEAD" : "GET", target: target),
            (try? RequestHead.checkHost(shape.host, count: 1)) != nil,
            let credential = try? PresentedCredential.find(
                firstAuthorization: shape.authorization, authorizationCount: shape.authorizationCount,
                rawQuery: line.rawQuery)
        else { return nil }
        line.clientAddress = clientAddress
        guard let (authenticated, nonce) = verify(credential, line: line, snapshot: snapshot) else { return nil }
        let authorization = ProxyAuthorization(authenticated, credential: credential, line: line, snapshot: snapshot)
        guard let upstream = authorization.target else { return nil }
        let identity = authenticated?.identity
        // A constant, built whole: moved into the exchange, not copied string by string.
        let record = AccessRecord(
            requestId: RequestID.resolve(shape.requestId, with: pool.requestIds),
            method: shape.isHeadRequest ? "HEAD" : "GET",
            appKey: identity?.appKey, accountId: identity?.user.accountId,
            credential: identity?.credential.rawValue ?? credential.auditName, allowed: true,
            route: authorization.route, auditsAllowed: snapshot.policy.document.gateway.auditAllowedRequests,
            reason: "allowed")
        var writer = UpstreamHeadWriter(
            received: head, upstream: upstream, rawPath: line.rawPath,
            rawQuery: line.rawQuery.map(QueryParameters.removingJWT), recycling: &upstreamHeads,
            allocator: allocator)
        ForwardedHeaders.request(
            fields: UpstreamHeadWriter.fields(of: head), options: [], authority: shape.host,
            identity: ForwardedIdentity(identity), requestId: record.requestId, clientAddress: clientAddress,
            passed: snapshot.passedClientHeaders, isSecure: plane.isSecure, into: &writer)
        let upstreamHead = writer.finish(host: upstream.authority)
        upstreamHeads.keep(upstreamHead)
        let exchange = ByteExchange(
            front: self, context: context, pool: pool, target: upstream, head: upstreamHead,
            isHeadRequest: shape.isHeadRequest, record: record, started: started)
        return (exchange, nonce)
    }

    /// Who a credential verified from memory acts as (nil: anonymous), with the
    /// nonce an OAuth 1.0a request has still to spend; nil when the request is left
    /// to NIO's path: a credential the store must check, or one refused.
    private func verify(
        _ credential: PresentedCredential, line: RequestLine, snapshot: PolicySnapshot
    ) -> (Authenticated?, NonceToSpend?)? {
        switch try? plane.authenticator.verifyWithoutStore(credential, request: line, snapshot: snapshot) {
        case .verified(let authenticated)?:
            return (authenticated, nil)
        case .oauth1(let header)?:
            // Every check but the nonce's, and the identity from memory; the nonce is
            // spent once the decision allows the request.
            guard
                let checked = try? plane.authenticator.oauth1.checkFromMemory(
                    header, request: line, snapshot: snapshot)
            else { return nil }
            return (
                Authenticated(identity: checked.identity),
                NonceToSpend(nonce: checked.nonce, ledger: snapshot.grants.oauth1.nonces)
            )
        case .basic?, nil:
            return nil
        }
    }

    /// Spends an allowed OAuth 1.0a request's nonce, reading on meanwhile as during
    /// an exchange, and forwards the request once the store has the nonce.
    private func spend(
        _ nonce: NonceToSpend, for exchange: ByteExchange, headLength: Int, context: ChannelHandlerContext
    ) {
        state = .spendingNonce
        dataPlaneHandler.byteExchangeInFlight = true
        nonce.ledger.spend(nonce.nonce, on: context.eventLoop, with: (self, exchange)) { waiting, outcome in
            waiting.0.nonceSpent(outcome, waiting.1, headLength: headLength)
        }
    }

    /// Forwards the request whose nonce was new. A nonce spent before, or one the
    /// store could not record, hands the connection to NIO's handlers, which check
    /// the request again and answer it: 401 `nonce_used`, or the store is asked again
    /// (the ledger forgets a nonce it could not record).
    private func nonceSpent(_ outcome: Result<Bool, StoreError>, _ exchange: ByteExchange, headLength: Int) {
        // The connection closed meanwhile: nothing is owed.
        guard case .spendingNonce = state, let context else { return }
        dataPlaneHandler.byteExchangeInFlight = false
        guard case .success(true) = outcome else {
            handOff(context: context)
            return
        }
        forward(exchange, headLength: headLength, context: context)
    }

    /// Forwards an allowed request whose head, `headLength` bytes, starts `pending`.
    private func forward(_ exchange: ByteExchange, headLength: Int, context: ChannelHandlerContext) {
        pending!.moveReaderIndex(forwardBy: headLength)
        if pending!.readableBytes == 0 { pending = nil }
        plane.metrics?.decision(allowed: true, reason: "allowed")
        plane.metrics?.bytePath(forwarded: true)
        state = .exchanging(exchange)
        dataPlaneHandler.byteExchangeInFlight = true
        exchange.start()
    }

    /// NIO's handlers serve the connection from the request at the start of `pending` on.
    private func handOff(context: ChannelHandlerContext) {
        state = .handedOff
        if readsItself {
            // NIO's handlers and Hummingbird read as NIO reads for them.
            readsItself = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
        plane.metrics?.bytePath(forwarded: false)
        if let bytes = pending {
            pending = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        // Shutdown began while an OAuth 1.0a nonce was spent: NIO's handlers close after their answer.
        if quiescing { context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        heldRead.resume(context)
    }

    // MARK: Answers

    /// The exchange relayed its answer: the next request may be read, unless the connection closes.
    func exchangeFinished(_ exchange: ByteExchange, closing: Bool) {
        guard case .exchanging(let current) = state, current === exchange, let context else { return }
        dataPlaneHandler.byteExchangeInFlight = false
        if closing || quiescing {
            close(context: context)
            return
        }
        state = .reading
        context.flush()
        readRequest(context: context)
        if case .reading = state { heldRead.resume(context) }
    }

    /// The upstream failed before answering: the client gets the error's answer
    /// (docs/gateway.md §4) and may send its next request.
    func answerFailure(
        _ error: GatewayError, record: AccessRecord, started: ContinuousClock.Instant, exchange: ByteExchange
    ) {
        guard case .exchanging(let current) = state, current === exchange, let context else { return }
        var record = record
        record.status = error.status
        record.reason = error.reason
        record.latency = ContinuousClock.now - started
        plane.recorder.record(record)
        let message = error.message(requestId: record.requestId, closing: quiescing)
        context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: message))), promise: nil)
        exchangeFinished(exchange, closing: false)
    }

    private func close(context: ChannelHandlerContext) {
        state = .closing
        pending = nil
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer()))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }

    // MARK: The connection

    func read(context: ChannelHandlerContext) {
        switch state {
        // Reading on while a request is forwarded keeps the socket's read
        // interest as it is (holding it costs two `epoll_ctl` per request); what
        // arrives meanwhile, pipelined requests, waits in `pending` up to a head's
        // limit, and reads stop past it.
        case .spendingNonce, .exchanging:
            heldRead.read(context, allowed: (pending?.readableBytes ?? 0) < Self.headLimit)
        case .closing: break
        case .reading, .handedOff: context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .exchanging(let exchange) = state { exchange.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .exchanging(let exchange): exchange.clientClosed()
        case .spendingNonce:
            // The nonce is spent all the same; the request is not forwarded.
            state = .closing
            pending = nil
            dataPlaneHandler.byteExchangeInFlight = false
        case .reading, .handedOff, .closing: break
        }
        context.fireChannelInactive()
    }

    /// At shutdown a connection the byte path serves closes now when it is between
    /// requests, or once the answer in flight is relayed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .handedOff: context.fireUserInboundEventTriggered(event)
        case .spendingNonce, .exchanging: quiescing = true
        case .reading: close(context: context)
        case .closing: break
        }
    }
}

@available(*, unavailable)
extension ByteFrontHandler: Sendable {}
