import NIOCore
import NIOHTTP1
import Policy

/// The main listener's request path for one connection (docs/gateway.md §3),
/// behind NIO's HTTP/1.1 server handlers and in front of Hummingbird's.
///
/// Every request head is checked here: its framing, its size and `Host`. A
/// proxied request whose credential needs no store (a Connect JWT, a Bearer
/// token, an API token verified recently, none) is authenticated, decided and
/// forwarded right here, on the event loop (the fast path, `ProxyExchange`); an
/// OAuth 1.0a request without a body whose identity memory knows waits for its
/// nonce's batch first, without holding the loop. The gateway's own endpoints,
/// other Basic and other OAuth 1.0a requests pass on to Hummingbird's router
/// unchanged. Both paths
/// parse, verify, decide, rewrite headers and answer refusals with the same
/// functions. With `HTTPServerPipelineHandler` in front, one request is answered
/// at a time, so pipelined answers keep their order whichever path answers.
final class DataPlaneHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the connection is doing; the OAuth 1.0a step (`DataPlaneHandler+oauth1.swift`) moves it too.
    enum State {
        case idle
        /// Handed to Hummingbird: its parts pass on until `.end`.
        case passing
        /// Answered here before its body: the rest of it is read and dropped.
        case discarding
        /// An OAuth 1.0a request waiting for its nonce to be spent (it has no body).
        case authorizing(requestEnded: Bool)
        /// Forwarded on the fast path.
        case proxying(ProxyExchange)
    }

    /// A request whose head was read and whose credential was found: what deciding it needs.
    struct ParsedRequest {
        let head: HTTPRequestHead
        let line: RequestLine
        let credential: PresentedCredential
        let snapshot: PolicySnapshot
        let record: AccessRecord
        let started: ContinuousClock.Instant
    }

    let plane: DataPlane
    var state = State.idle
    private(set) var context: ChannelHandlerContext?
    private var clientAddress: String?
    /// A `read` held back while the upstream cannot take more.
    private var heldRead = HeldRead()
    /// Hummingbird owes the answer to a request passed to it.
    private var awaitingHummingbird = false
    /// A passed proxied request asked for `100 Continue`: it is sent once the
    /// request is authorized (`ContinueAuthorizedEvent`), or never.
    private var continueOwed = false
    /// Close once the answer being written ends (a refused `Expect` request).
    private var closeAfterAnswer = false
    /// The connection is closing after an answer: nothing more is read or answered.
    private(set) var isClosing = false
    /// The request passed to Hummingbird is for one of the gateway's own endpoints.
    private var passedEndpoint = false
    /// Hummingbird has begun its answer (head written, end not yet).
    private var hummingbirdAnswering = false
    /// The connection's timeouts, checked by the event loop's pool.
    private var timer = ConnectionTimer(now: .now())
    private let readCounter: ReadCounter
    /// The byte path in front (`ByteFrontHandler`) is forwarding a request: the
    /// connection is answering, not idle, for its timeouts.
    var byteExchangeInFlight = false

    init(plane: DataPlane, readCounter: ReadCounter) {
        self.plane = plane
        self.readCounter = readCounter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress
        plane.pools.pool(for: context.eventLoop)?.watch(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        plane.pools.pool(for: context.eventLoop)?.unwatch(self)
        self.context = nil
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        let part = unwrapInboundIn(data)
        switch state {
        case .idle:
            guard case .head(let head) = part else { return }
            begin(head, context: context)
        case .passing:
            if case .end = part { state = .idle }
            context.fireChannelRead(data)
        case .discarding:
            if case .end = part { state = .idle }
        case .authorizing:
            if case .end = part { state = .authorizing(requestEnded: true) }
        case .proxying(let exchange):
            switch part {
            case .head: break
            case .body(let buffer): exchange.requestBody(buffer)
            case .end: exchange.requestEnd()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state { exchange.clientReadComplete() }
        context.fireChannelReadComplete()
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let started = ContinuousClock.now
        let expectsContinue = RequestFraming.expectsContinue(head.headers["expect"])
        if let problem = RequestFraming.problem(transferEncoding: head.headers["transfer-encoding"]) {
            state = .discarding
            answer(GatewayError(.badFraming, problem), record: Self.record(head), started: started, closing: true)
            return
        }
        let target = head.uri
        let pathEnd = target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        if plane.endpointPaths.contains(target[..<pathEnd]) {
            pass(head, expectsContinue: expectsContinue, isEndpoint: true)
            return
        }
        var record = Self.record(head)
        do throws(GatewayError) {
            try RequestHead.check(head)
            var line = try RequestLine.parse(method: head.method.rawValue, target: target)
            line.clientAddress = clientAddress
            let credential = try PresentedCredential.find(
                authorization: head.headers["authorization"].map { Substring($0) }, rawQuery: line.rawQuery)
            record.credential = credential.auditName
            let snapshot = plane.live.snapshot
            let authenticator = plane.authenticator
            let request = ParsedRequest(
                head: head, line: line, credential: credential, snapshot: snapshot, record: record, started: started)
            switch try countingRefusal({ () throws(GatewayError) in
                try authenticator.verifyWithoutStore(credential, request: line, snapshot: snapshot)
            }) {
            case .verified(let authenticated):
                decide(authenticated, request, expectsContinue: expectsContinue, context: context)
            case .basic:
                pass(head, expectsContinue: expectsContinue, isEndpoint: false)
            case .oauth1(let header):
                // Only a request without a body: a form body is signed, and the body would wait with it.
                guard !expectsContinue,
                    !RequestFraming.hasBody(
                        contentLength: head.headers.first(name: "content-length"),
                        hasTransferEncoding: head.headers.contains(name: "transfer-encoding")),
                    let checked = try countingRefusal({ () throws(GatewayError) in
                        try authenticator.oauth1.checkFromMemory(header, request: line, snapshot: snapshot)
                    })
                else {
                    pass(head, expectsContinue: expectsContinue, isEndpoint: false)
                    return
                }
                spendNonce(checked, request, context: context)
            }
        } catch {
            refuse(error, head: head, record: record, started: started, expectsContinue: expectsContinue)
        }
    }

    /// Runs a verification step, counting its refusal in the decision metrics.
    func countingRefusal<T>(_ step: () throws(GatewayError) -> T) throws(GatewayError) -> T {
        do {
            return try step()
        } catch {
            plane.metrics?.decision(allowed: false, reason: error.reason)
            throw error
        }
    }

    /// Decides a verified request: forwards it when it is allowed, refuses it otherwise.
    func decide(
        _ authenticated: Authenticated?, _ request: ParsedRequest, expectsContinue: Bool,
        requestEnded: Bool = false, context: ChannelHandlerContext
    ) {
        var record = request.record
        let identity = authenticated?.identity
        record.appKey = identity?.appKey
        record.accountId = identity?.user.accountId
        if let identity { record.credential = identity.credential.rawValue }
        let authorization = ProxyAuthorization(
            authenticated, credential: request.credential, line: request.line, snapshot: request.snapshot)
        record.route = authorization.route
        guard let upstream = authorization.target, let pool = plane.pools.pool(for: context.eventLoop) else {
            let refusal = authorization.refusal ?? GatewayError(.serverError, "no upstream pool for this thread")
            plane.metrics?.decision(allowed: false, reason: refusal.reason)
            refuse(
                refusal, head: request.head, record: record, started: request.started, expectsContinue: expectsContinue,
                requestEnded: requestEnded)
            return
        }
        plane.metrics?.decision(allowed: true, reason: "allowed")
        record.allowed = true
        record.reason = "allowed"
        record.auditsAllowed = request.snapshot.policy.document.gateway.auditAllowedRequests
        forward(
            request.head, line: request.line, identity: ForwardedIdentity(identity), snapshot: request.snapshot,
            to: upstream, pool: pool, record: record, started: request.started, expectsContinue: expectsContinue,
            context: context)
        if requestEnded, case .proxying(let exchange) = state { exchange.requestEnd() }
    }

    /// Answers a refused request (docs/gateway.md §4); the rest of its body is read
    /// and dropped, unless `requestEnded` says it was all read.
    func refuse(
        _ error: GatewayError, head: HTTPRequestHead, record: AccessRecord, started: ContinuousClock.Instant,
        expectsContinue: Bool, requestEnded: Bool = false
    ) {
        var record = record
        record.reason = error.reason
        // A client waiting for `100 Continue` will not send the body: the connection cannot be reused;
        // nor can one whose client asked to close it.
        state = requestEnded ? .idle : .discarding
        answer(error, record: record, started: started, closing: expectsContinue || !head.isKeepAlive)
    }

    /// The access record of a request the fast path answers: its method and request id.
    /// A request Hummingbird answers gets its record from `AccessLogMiddleware`.
    private static func record(_ head: HTTPRequestHead) -> AccessRecord {
        var record = AccessRecord()
        record.method = head.method.rawValue
        record.requestId = RequestID.resolve(head.headers.first(name: ForwardedHeaders.requestId))
        return record
    }

    /// Sends an allowed request to `upstream` with the bytes decided on: the path
    /// and query as received (less `jwt`), the rewritten headers, the body as it comes.
    private func forward(
        _ head: HTTPRequestHead, line: RequestLine, identity: ForwardedIdentity, snapshot: PolicySnapshot,
        to upstream: UpstreamTarget, pool: UpstreamPool, record: AccessRecord, started: ContinuousClock.Instant,
        expectsContinue: Bool, context: ChannelHandlerContext
    ) {
        var headers = ForwardedHeaders.request(
            from: head.headers, authority: head.headers.first(name: "host"), identity: identity,
            requestId: record.requestId, clientAddress: clientAddress, passed: snapshot.passedClientHeaders,
            isSecure: plane.isSecure)
        let hasBody = ForwardedHeaders.frame(
            &headers, host: upstream.authority, contentLength: head.headers.first(name: "content-length"),
            hasTransferEncoding: head.headers.contains(name: "transfer-encoding"))
        let upstreamHead = HTTPRequestHead(
            version: .http1_1, method: head.method,
            uri: upstream.requestTarget(
                rawPath: line.rawPath, rawQuery: line.rawQuery.map(QueryParameters.removingJWT)),
            headers: headers)
        let exchange = ProxyExchange(
            client: self, context: context, pool: pool, target: upstream, head: upstreamHead,
            client: head, record: record, started: started, hasBody: hasBody)
        state = .proxying(exchange)
        if expectsContinue {
            let interim = HTTPResponseHead(version: head.version, status: .continue)
            context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
        }
        exchange.start()
    }

    /// Hands the request to Hummingbird's router: the gateway's own endpoints
    /// answer `Expect` at once; the proxy there only once it has authorized the request.
    private func pass(_ head: HTTPRequestHead, expectsContinue: Bool, isEndpoint: Bool) {
        guard let context else { return }
        var head = head
        if expectsContinue {
            head.headers.remove(name: "expect")
            if isEndpoint {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            } else {
                continueOwed = true
            }
        }
        state = .passing
        passedEndpoint = isEndpoint
        awaitingHummingbird = true
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Writes the answer for `error` (docs/gateway.md §4) and records the request;
    /// `closing` closes the connection after it. The state must have moved on
    /// before: writing the end may deliver the next pipelined request.
    func answer(_ error: GatewayError, record: AccessRecord, started: ContinuousClock.Instant, closing: Bool) {
        guard let context else { return }
        var record = record
        record.status = error.status
        record.reason = error.reason
        record.latency = ContinuousClock.now - started
        plane.recorder.record(record)
        let body = ByteBuffer(string: error.body)
        var headers = HTTPHeaders(error.answerHeaders(requestId: record.requestId).map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if closing { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: error.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if closing {
            isClosing = true
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    /// The exchange moved on: once both its request and its response are over, the connection is free.
    func exchangeProgressed(_ exchange: ProxyExchange) {
        guard case .proxying(let current) = state, current === exchange else { return }
        if exchange.isDone {
            state = .idle
        } else if exchange.response == .complete || exchange.response == .failed {
            state = .discarding
        } else {
            return
        }
        resumeReading()
    }

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        switch state {
        case .proxying(let exchange): heldRead.read(context, allowed: exchange.mayReadClient)
        case .authorizing: heldRead.read(context, allowed: false)
        case .idle, .passing, .discarding: context.read()
        }
    }

    /// Reads again once the upstream can take more.
    func resumeReading() { heldRead.resume(context) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state { exchange.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Hummingbird's answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !isClosing || hummingbirdAnswering else {
            // Answered here already (a 408 while Hummingbird still read the body).
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200 && continueOwed:
            // Refused before `100 Continue`: the client will not send the body.
            continueOwed = false
            closeAfterAnswer = true
            hummingbirdAnswering = true
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head(let head) where head.status.code >= 200:
            hummingbirdAnswering = true
            context.write(data, promise: promise)
        case .end:
            awaitingHummingbird = false
            hummingbirdAnswering = false
            continueOwed = false
            if closeAfterAnswer {
                closeAfterAnswer = false
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(data).whenComplete { result in
                    promise?.completeWith(result)
                    loopBound.value.close(promise: nil)
                }
            } else {
                context.write(data, promise: promise)
            }
        default:
            context.write(data, promise: promise)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is ContinueAuthorizedEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if continueOwed {
            continueOwed = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))))
                .cascade(to: promise)
        } else {
            promise?.succeed()
        }
    }

    // MARK: The connection

    /// What the connection is doing, for its timeouts.
    private var timerPhase: ConnectionTimer.Phase {
        switch state {
        case .idle:
            return awaitingHummingbird || byteExchangeInFlight ? .answering : .betweenRequests
        case .passing:
            return .receivingBody(heldBack: false, whole: passedEndpoint, answerable: !hummingbirdAnswering)
        case .discarding:
            return .receivingBody(heldBack: false, whole: false, answerable: false)
        case .authorizing:
            return .answering
        case .proxying(let exchange):
            guard exchange.isReceivingRequest else { return .answering }
            return .receivingBody(
                heldBack: heldRead.isPending, whole: false, answerable: exchange.response == .awaitingHead)
        }
    }

    /// Called by the event loop's pool at each sweep: closes a connection idle
    /// too long, and answers 408 to a head or body that does not come in time.
    func checkTimeouts(now: NIODeadline, settings: ConnectionSettings) {
        guard !isClosing, let context else { return }
        switch timer.check(now: now, reads: readCounter.reads, phase: timerPhase, settings: settings) {
        case .fine:
            return
        case .close:
            isClosing = true
            if case .proxying(let exchange) = state { exchange.clientClosed() }
            context.close(promise: nil)
        case .requestTimeout(let message):
            let error = GatewayError(.requestTimeout, message)
            var record = AccessRecord()
            record.method = "-"
            record.requestId = RequestID.make()
            switch state {
            case .proxying(let exchange):
                exchange.clientClosed()
            case .passing:
                // Hummingbird has not begun its answer: it is dropped if it comes (`write`).
                break
            case .authorizing:
                // Its nonce's outcome finds the state moved on and is dropped.
                break
            case .idle, .discarding:
                // No request was delivered: the answer goes straight to the socket.
                isClosing = true
                record.status = error.status
                record.reason = error.reason
                plane.recorder.record(record)
                readCounter.sendClosing(error.closingMessage(requestId: record.requestId))
                return
            }
            state = .discarding
            answer(error, record: record, started: .now, closing: true)
        }
    }

    /// A request the parser cannot read is a 400 that closes the connection,
    /// unless an answer has begun (then the connection just closes).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !isClosing else { return }
        isClosing = true
        let isAnswering: Bool
        switch state {
        case .idle, .discarding: isAnswering = awaitingHummingbird
        case .passing: isAnswering = true
        case .authorizing: isAnswering = false
        case .proxying(let exchange): isAnswering = exchange.response != .awaitingHead
        }
        guard !isAnswering else {
            context.close(promise: nil)
            return
        }
        if case .proxying(let exchange) = state { exchange.clientClosed() }
        let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)))
        )
        .whenFailure { _ in }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state { exchange.clientClosed() }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension DataPlaneHandler: Sendable {}
