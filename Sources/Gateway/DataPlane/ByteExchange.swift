import NIOCore

/// One request forwarded on the byte path (docs/gateway.md §3, "The byte path"):
/// the head decided on is written to a pooled upstream connection as bytes, and
/// the answer is relayed as bytes: its head read by `RawResponseHead` and
/// rewritten by the header rules, its body passed on as it comes, framed by its
/// `Content-Length`, its chunks (`ChunkedBodyScanner`) or the upstream's close.
/// The request has no body. Failures before the answer's head are 502/504;
/// after it, the client connection closes.
final class ByteExchange: UpstreamExchange {
    enum Response { case awaitingHead, streaming, complete, failed }

    /// Where the relayed body ends.
    private enum BodyEnd {
        case length(remaining: Int)
        case chunked(ChunkedBodyScanner)
        case close
    }

    private unowned let front: ByteFrontHandler
    private let clientContext: ChannelHandlerContext
    private let pool: UpstreamPool
    let target: UpstreamTarget
    private let head: ByteBuffer
    private let isHeadRequest: Bool
    private var record: AccessRecord
    private let started: ContinuousClock.Instant
    private var retried = false
    private var wasReused = false

    private(set) var deadline: NIODeadline
    var sweepSlot = -1
    private var connection: UpstreamConnection?
    private(set) var response = Response.awaitingHead
    /// The answer's bytes while its head is incomplete.
    private var received: ByteBuffer?
    private var bodyEnd = BodyEnd.close
    private var upstreamKeepsAlive = false
    /// The upstream sent more than the answer it framed: not reused.
    private var overran = false

    init(
        front: ByteFrontHandler, context: ChannelHandlerContext, pool: UpstreamPool, target: UpstreamTarget,
        head: ByteBuffer, isHeadRequest: Bool, record: AccessRecord, started: ContinuousClock.Instant
    ) {
        self.front = front
        self.clientContext = context
        self.pool = pool
        self.target = target
        self.head = head
        self.isHeadRequest = isHeadRequest
        self.record = record
        self.started = started
        // Set when the exchange starts (an OAuth 1.0a request spends its nonce first).
        self.deadline = .distantFuture
    }

    /// Whether the upstream may be read: the client can take what is read.
    var mayReadUpstream: Bool { clientContext.channel.isWritable }

    func start() {
        deadline = .now() + .milliseconds(Int64(target.requestTimeoutMs))
        pool.started(self)
        pool.acquire(target, codec: .bytes) { [self] result in connected(result) }
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
            connection.byteHandler.exchange = self
            connection.byteHandler.sendAtEndOfTurn(head, channel: connection.channel)
            touch()
        case .failure(let error):
            fail(ProxyExchange.failure(error, target: target))
        }
    }

    // MARK: The upstream's side

    func upstreamRead(_ buffer: ByteBuffer) {
        touch()
        switch response {
        case .awaitingHead:
            if received == nil {
                received = buffer
            } else {
                var buffer = buffer
                received!.writeBuffer(&buffer)
            }
            readHead()
        case .streaming:
            relay(buffer)
        case .complete, .failed:
            // Bytes after the answer it framed: the connection is not reused.
            overran = true
        }
    }

    /// Reads the answer's head from what came so far; interim answers are dropped.
    private func readHead() {
        while var bytes = received {
            switch RawResponseHead.scan(bytes, limit: RawResponseHead.limit, reusing: &front.answerFields) {
            case .incomplete:
                return
            case .refused:
                fail(.upstreamNotHTTP(target.name))
                return
            case .head(let answer, let length):
                bytes.moveReaderIndex(forwardBy: length)
                received = nil
                if answer.status < 200 {
                    // The gateway answered no `Expect`; other interim answers are not relayed.
                    guard answer.status != 101 else {
                        fail(
                            GatewayError(
                                .upstreamSwitchedProtocols,
                                "the upstream \(target.name) switched protocols, which was not asked for"))
                        return
                    }
                    if bytes.readableBytes > 0 { received = bytes }
                    continue
                }
                respond(answer, rest: bytes)
                return
            }
        }
    }

    /// Sends the answer's head on to the client and records the request, then
    /// `rest`, the bytes that came after the head.
    private func respond(_ answer: RawResponseHead, rest: ByteBuffer) {
        let framing = answer.bodyFraming(requestWasHead: isHeadRequest)
        guard answer.transferEncodings.isEmpty || answer.isChunkedAlone else {
            // A coding besides chunked: the client, told only of chunked, could not undo it.
            fail(.upstreamNotHTTP(target.name))
            return
        }
        // The record leaves the exchange with the answer's head (nothing after it
        // records again): moved out, not copied field by field.
        var finished = AccessRecord()
        swap(&finished, &record)
        let closing = front.closesAfterAnswer
        // A whole small body that came with the head goes out in the head's buffer:
        // one write of one buffer, not two (docs/gateway.md §3).
        let wholeBody = Self.wholeSmallBody(framing, rest: rest)
        var head = ClientResponseHead(
            answer, framing: framing, requestId: finished.requestId, closing: closing,
            bodyCapacity: wholeBody ?? 0, recycling: &front.answerHeads, allocator: front.allocator)
        upstreamKeepsAlive = head.upstreamKeepsAlive
        let latency = ContinuousClock.now - started
        let plane = front.plane
        plane.metrics?.upstreamResponse(
            upstream: target.name, slot: target.responseTimer, duration: latency)
        finished.status = answer.status
        finished.latency = latency
        plane.recorder.record(finished, memo: &front.requestCounter)
        response = .streaming
        if let length = wholeBody {
            var rest = rest
            head.bytes.writeImmutableBuffer(rest.readSlice(length: length)!)
            front.answerHeads.keep(head.bytes)
            clientContext.write(NIOAny(IOData.byteBuffer(head.bytes)), promise: nil)
            bodyEnd = .length(remaining: 0)
            overran = rest.readableBytes > 0
            complete(closingClient: closing)
            return
        }
        front.answerHeads.keep(head.bytes)
        clientContext.write(NIOAny(IOData.byteBuffer(head.bytes)), promise: nil)
        switch framing {
        case .none:
            // Bytes after an answer without a body would be taken for the next answer.
            overran = rest.readableBytes > 0
            complete(closingClient: closing)
            return
        case .length(let length):
            bodyEnd = .length(remaining: length)
        case .chunked:
            bodyEnd = .chunked(ChunkedBodyScanner())
        case .untilClose:
            bodyEnd = .close
        }
        if rest.readableBytes > 0 { relay(rest) }
    }

    /// Bodies up to this many bytes are copied behind the head when they arrived whole with it.
    static let coalescedBodyLimit = 4096

    /// The length of a body framed by `Content-Length` that `rest` holds whole,
    /// when it is small enough to be copied behind the head; nil otherwise.
    static func wholeSmallBody(_ framing: ResponseBodyFraming, rest: ByteBuffer) -> Int? {
        guard case .length(let length) = framing, length > 0, length <= coalescedBodyLimit,
            rest.readableBytes >= length
        else { return nil }
        return length
    }

    /// Passes body bytes on to the client, up to the end of the answer.
    private func relay(_ buffer: ByteBuffer) {
        var buffer = buffer
        switch bodyEnd {
        case .length(let remaining):
            let count = min(remaining, buffer.readableBytes)
            clientContext.write(NIOAny(IOData.byteBuffer(buffer.readSlice(length: count)!)), promise: nil)
            bodyEnd = .length(remaining: remaining - count)
            if remaining == count {
                overran = buffer.readableBytes > 0
                complete(closingClient: front.closesAfterAnswer)
            }
        case .chunked(var scanner):
            let count: Int
            // Trailer fields are dropped, as on NIO's path (docs/gateway.md §3).
            var trailers: [Range<Int>] = []
            do {
                count = try buffer.withUnsafeReadableBytes { bytes throws(ChunkedBodyScanner.Refusal) in
                    try scanner.consume(bytes, trailer: { trailers.append($0) })
                }
            } catch {
                abort()
                return
            }
            bodyEnd = .chunked(scanner)
            if trailers.isEmpty {
                clientContext.write(NIOAny(IOData.byteBuffer(buffer.readSlice(length: count)!)), promise: nil)
            } else {
                for kept in Self.runs(of: 0..<count, without: trailers) {
                    let slice = buffer.getSlice(at: buffer.readerIndex + kept.lowerBound, length: kept.count)!
                    clientContext.write(NIOAny(IOData.byteBuffer(slice)), promise: nil)
                }
                buffer.moveReaderIndex(forwardBy: count)
            }
            if scanner.isDone {
                overran = buffer.readableBytes > 0
                complete(closingClient: front.closesAfterAnswer)
            }
        case .close:
            clientContext.write(NIOAny(IOData.byteBuffer(buffer)), promise: nil)
        }
    }

    /// The non-empty parts of `whole` outside `removed` (in order, apart, within `whole`).
    static func runs(of whole: Range<Int>, without removed: [Range<Int>]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = whole.lowerBound
        for cut in removed {
            if cut.lowerBound > start { runs.append(start..<cut.lowerBound) }
            start = max(start, cut.upperBound)
        }
        if start < whole.upperBound { runs.append(start..<whole.upperBound) }
        return runs
    }

    func upstreamReadComplete() { clientContext.flush() }

    /// The request is a head alone, written at once: nothing waits for the upstream to take more.
    func upstreamBecameWritable() {}

    /// The upstream connection closed (`error` nil) or failed.
    func upstreamClosed(error: (any Error)?) {
        switch response {
        case .awaitingHead:
            if wasReused, received == nil, !retried {
                retry()
            } else {
                fail(error.map { ProxyExchange.failure($0, target: target) } ?? .upstreamUnreachable(target.name))
            }
        case .streaming:
            if error == nil, case .close = bodyEnd {
                upstreamKeepsAlive = false
                complete(closingClient: true)
            } else {
                abort()
            }
        case .complete, .failed:
            break
        }
    }

    /// Sends the request again on a new connection: the reused one was closed by
    /// the upstream before a byte of an answer (the request is a `GET` or `HEAD`).
    private func retry() {
        retried = true
        dropConnection()
        pool.acquire(target, codec: .bytes, fresh: true) { [self] result in connected(result) }
    }

    /// The upstream did not answer, or stopped sending, within `requestTimeoutMs`.
    func timedOut() {
        switch response {
        case .awaitingHead:
            fail(.upstreamTimeout(target.name, milliseconds: target.requestTimeoutMs))
        case .streaming where !mayReadUpstream:
            // Held back because the client is not reading: not the upstream's silence.
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

    // MARK: The client's side

    func clientBecameWritable() { connection?.resumeReading() }

    /// The client went away: the upstream connection cannot be reused.
    func clientClosed() {
        guard response == .awaitingHead || response == .streaming else { return }
        response = .failed
        dropConnection()
        pool.finished(self)
    }

    // MARK: Ending

    /// The answer is relayed whole: the upstream connection goes back to the pool
    /// when the upstream keeps it alive, and the client's next request may come.
    private func complete(closingClient: Bool) {
        response = .complete
        pool.finished(self)
        if let connection {
            self.connection = nil
            connection.served += 1
            if upstreamKeepsAlive, !overran { pool.release(connection) } else { pool.discard(connection) }
        }
        front.exchangeFinished(self, closing: closingClient)
    }

    /// No answer's head was sent: the client gets the error's answer.
    private func fail(_ error: GatewayError) {
        guard response == .awaitingHead else { return }
        response = .failed
        pool.finished(self)
        dropConnection()
        front.plane.metrics?.upstreamLatency(
            upstream: target.name, outcome: error.reason, duration: ContinuousClock.now - started)
        front.plane.logger.warning("upstream request failed", metadata: error.upstreamMetadata(target.name))
        front.answerFailure(error, record: record, started: started, exchange: self)
    }

    /// The answer's head was sent and the rest cannot follow: both connections
    /// close, the client's once what was relayed is written.
    private func abort() {
        response = .failed
        pool.finished(self)
        dropConnection()
        clientContext.flush()
        clientContext.close(promise: nil)
    }

    private func dropConnection() {
        guard let connection else { return }
        self.connection = nil
        pool.discard(connection)
    }
}
