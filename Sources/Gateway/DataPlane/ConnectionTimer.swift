import NIOCore
import Policy

/// The client connection's timeouts (docs/gateway.md §1, "Client connections"), read by
/// sampling at each sweep of the event loop's timer (every 100 ms) rather than
/// by a timer per request: how many reads the connection has seen, and what it
/// is doing now.
struct ConnectionTimer {
    /// What the connection is doing, as the timeouts see it.
    enum Phase: Equatable {
        /// No request in progress: idle (`keepAliveTimeoutMs`), or receiving the
        /// next head once bytes came (`headerTimeoutMs`).
        case betweenRequests
        /// Receiving a request's body: at most `bodyTimeoutMs` between two reads,
        /// unless the gateway itself holds reads back; `whole` bounds the whole
        /// request by it too (the gateway's own endpoints read small bodies);
        /// `answerable`: no answer has begun, so a 408 can still be written.
        case receivingBody(heldBack: Bool, whole: Bool, answerable: Bool)
        /// The request is read; its answer is being made or written.
        case answering
    }

    enum Verdict: Equatable {
        case fine
        /// Close without a word: idle too long, or an answer already begun.
        case close
        /// Answer 408 `request_timeout`, then close.
        case requestTimeout(String)
    }

    private var reads = 0
    private var lastActivity: NIODeadline
    private var idleSince: NIODeadline?
    private var headBegan: NIODeadline?
    private var requestBegan: NIODeadline?

    init(now: NIODeadline) {
        lastActivity = now
    }

    /// The verdict at `now` for a connection in `phase` that has seen `reads` reads so far.
    mutating func check(now: NIODeadline, reads count: Int, phase: Phase, settings: ConnectionSettings) -> Verdict {
        let active = count != reads
        reads = count
        if active { lastActivity = now }
        switch phase {
        case .betweenRequests:
            requestBegan = nil
            guard let idle = idleSince else {
                // Just became idle: the reads so far were the last request's.
                idleSince = now
                return .fine
            }
            if active, headBegan == nil { headBegan = now }
            if let began = headBegan {
                return now - began > .milliseconds(Int64(settings.headerTimeoutMs))
                    ? .requestTimeout("the request head was not complete within \(settings.headerTimeoutMs) ms") : .fine
            }
            return now - idle > .milliseconds(Int64(settings.keepAliveTimeoutMs)) ? .close : .fine
        case .receivingBody(let heldBack, let whole, let answerable):
            idleSince = nil
            headBegan = nil
            let began = requestBegan ?? now
            requestBegan = began
            let limit = TimeAmount.milliseconds(Int64(settings.bodyTimeoutMs))
            let late =
                whole && now - began > limit
                ? "the request was not read whole within \(settings.bodyTimeoutMs) ms"
                : !heldBack && now - lastActivity > limit
                    ? "no byte of the request body came for \(settings.bodyTimeoutMs) ms" : nil
            guard let late else { return .fine }
            return answerable ? .requestTimeout(late) : .close
        case .answering:
            idleSince = nil
            headBegan = nil
            requestBegan = nil
            return .fine
        }
    }
}

/// Counts the reads of a client connection for `ConnectionTimer`: placed in
/// front of the HTTP decoder, so the bytes of a head not yet complete count too.
/// Being first in the pipeline, it also writes answers that belong to no
/// request straight to the socket (`sendClosing`).
final class ReadCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var reads = 0
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes `message` as it is, then closes the connection.
    func sendClosing(_ message: String) {
        guard let context else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: message))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads &+= 1
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ReadCounter: Sendable {}
