import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The framing floor (main.swift, `framing`): HTTP/1.1 framed by hand on NIO's
// sockets, one layer below NIO's HTTP handlers. A request head is found by its
// blank line and forwarded as the bytes received; an answer is relayed as it
// comes and ends after its head and `Content-Length` bytes; upstream connections
// are kept alive in a per-loop pool. It only frames what the benchmark sends
// (requests without a body, answers with a `Content-Length`) and closes the
// client connection on anything else: what a hand-written codec would cost at the
// least, not one.

/// The idle upstream connections of one event loop, most recently used last.
final class FramingPool {
    let eventLoop: any EventLoop
    let upstreamPort: Int
    private var idle: [FramingUpstream] = []

    init(eventLoop: any EventLoop, upstreamPort: Int) {
        self.eventLoop = eventLoop
        self.upstreamPort = upstreamPort
    }

    func takeIdle() -> FramingUpstream? {
        while let upstream = idle.popLast() {
            if upstream.channel?.isActive == true { return upstream }
        }
        return nil
    }

    func connect(_ done: @escaping (Result<FramingUpstream, any Error>) -> Void) {
        let upstream = FramingUpstream(pool: self)
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(upstream) }
            }
            .connect(host: "127.0.0.1", port: upstreamPort)
            .assumeIsolated()
            .whenComplete { result in done(result.map { _ in upstream }) }
    }

    func release(_ upstream: FramingUpstream) { idle.append(upstream) }
}

/// Where the blank line ending a head is in `buffer`: the head's length with it, or nil.
func headLength(_ buffer: ByteBuffer) -> Int? {
    buffer.withUnsafeReadableBytes { bytes -> Int? in
        guard let base = bytes.baseAddress else { return nil }
        var start = 0
        while start + 4 <= bytes.count,
            let found = memchr(base + start, Int32(UInt8(ascii: "\r")), bytes.count - start - 3)
        {
            let index = UnsafeRawPointer(found) - base
            if bytes[index + 1] == UInt8(ascii: "\n"), bytes[index + 2] == UInt8(ascii: "\r"),
                bytes[index + 3] == UInt8(ascii: "\n")
            {
                return index + 4
            }
            start = index + 1
        }
        return nil
    }
}

/// The `Content-Length` of a response head (names compared without case), or nil.
func contentLength(ofHead buffer: ByteBuffer, length: Int) -> Int? {
    let name = Array("\r\ncontent-length:".utf8)
    let view = buffer.readableBytesView.prefix(length)
    var index = view.startIndex
    while index + name.count <= view.endIndex {
        var matches = true
        for offset in 0..<name.count where view[index + offset] | 0x20 != name[offset] | 0x20 {
            matches = false
            break
        }
        if matches {
            var value = 0
            var position = index + name.count
            while position < view.endIndex, view[position] == UInt8(ascii: " ") { position += 1 }
            var digits = 0
            while position < view.endIndex, view[position] &- UInt8(ascii: "0") < 10 {
                value = value * 10 + Int(view[position] - UInt8(ascii: "0"))
                position += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
        index += 1
    }
    return nil
}

/// The client side: one request at a time, its head forwarded as received.
final class FramingClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let pools: PerLoop<FramingPool>
    private var received: ByteBuffer?
    private var busy = false
    private var context: ChannelHandlerContext?

    init(pools: PerLoop<FramingPool>) { self.pools = pools }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        nextRequest()
    }

    private func nextRequest() {
        guard !busy, let context, var buffer = received, let length = headLength(buffer) else { return }
        let head = buffer.readSlice(length: length)!
        received = buffer.readableBytes > 0 ? buffer : nil
        busy = true
        let pool = pools[context.eventLoop]
        if let upstream = pool.takeIdle() {
            upstream.forward(head, for: self)
            return
        }
        pool.connect { [self] result in
            switch result {
            case .success(let upstream): upstream.forward(head, for: self)
            case .failure: self.context?.close(promise: nil)
            }
        }
    }

    func answer(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func answered() {
        context?.flush()
        busy = false
        nextRequest()
    }

    func failed() {
        context?.close(promise: nil)
    }
}

/// The upstream side: relays an answer until its head and `Content-Length` bytes have passed.
final class FramingUpstream: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let pool: FramingPool
    private var client: FramingClient?
    private var context: ChannelHandlerContext?
    /// The answer's head so far, until its blank line has come.
    private var head: ByteBuffer?
    /// Bytes of the answer still to relay, once its head has come.
    private var remaining: Int?

    init(pool: FramingPool) { self.pool = pool }

    var channel: (any Channel)? { context?.channel }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func forward(_ request: ByteBuffer, for client: FramingClient) {
        self.client = client
        context?.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let client else { return }
        var bytes = unwrapInboundIn(data)
        if remaining == nil {
            if head != nil {
                head!.writeBuffer(&bytes)
                bytes = head!
            }
            guard let length = headLength(bytes) else {
                head = bytes
                return
            }
            head = nil
            guard let body = contentLength(ofHead: bytes, length: length) else {
                client.failed()
                context.close(promise: nil)
                return
            }
            remaining = length + body
        }
        remaining! -= bytes.readableBytes
        client.answer(bytes)
        if remaining! <= 0 {
            remaining = nil
            self.client = nil
            client.answered()
            pool.release(self)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        client?.failed()
        client = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
