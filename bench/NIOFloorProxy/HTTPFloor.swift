import NIOCore
import NIOHTTP1
import NIOPosix

// The HTTP floor: NIO's HTTP/1.1 handlers on both sides (main.swift).

/// An upstream connection and its handler, found once when it was made.
struct FloorConnection {
    let channel: any Channel
    let handler: FloorUpstreamHandler
}

/// The idle upstream connections of one event loop, most recently used last.
final class FloorPool {
    let eventLoop: any EventLoop
    let upstreamPort: Int
    private var idle: [FloorConnection] = []

    init(eventLoop: any EventLoop, upstreamPort: Int) {
        self.eventLoop = eventLoop
        self.upstreamPort = upstreamPort
    }

    /// An idle connection, or nil when a new one must be made (`connect`).
    func takeIdle() -> FloorConnection? {
        while let connection = idle.popLast() {
            if connection.channel.isActive { return connection }
        }
        return nil
    }

    func connect(_ done: @escaping (Result<FloorConnection, any Error>) -> Void) {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(FloorUpstreamHandler())
                }
            }
            .connect(host: "127.0.0.1", port: upstreamPort)
            .assumeIsolated()
            .whenComplete { result in
                done(
                    result.flatMap { channel in
                        Result {
                            FloorConnection(
                                channel: channel,
                                handler: try channel.pipeline.syncOperations.handler(type: FloorUpstreamHandler.self))
                        }
                    })
            }
    }

    func release(_ connection: FloorConnection) {
        idle.append(connection)
    }
}

/// The client side: forwards each request to an upstream connection and its answer back.
final class FloorClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pools: PerLoop<FloorPool>
    private var upstream: (any Channel)?
    /// Request parts read before the upstream connection is ready.
    private var pending: [HTTPClientRequestPart] = []
    private var context: ChannelHandlerContext?

    init(pools: PerLoop<FloorPool>) { self.pools = pools }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let request = HTTPClientRequestPart.head(
                HTTPRequestHead(version: head.version, method: head.method, uri: head.uri, headers: head.headers))
            let pool = pools[context.eventLoop]
            if let connection = pool.takeIdle() {
                attach(connection, pool: pool)
                connection.channel.write(request, promise: nil)
                return
            }
            pending = [request]
            pool.connect { [self] result in
                switch result {
                case .success(let connection):
                    attach(connection, pool: pool)
                    for part in pending { connection.channel.write(part, promise: nil) }
                    pending = []
                    connection.channel.flush()
                case .failure:
                    self.context?.close(promise: nil)
                }
            }
        case .body(let bytes):
            forward(.body(.byteBuffer(bytes)))
        case .end(let trailers):
            forward(.end(trailers))
        }
    }

    private func attach(_ connection: FloorConnection, pool: FloorPool) {
        upstream = connection.channel
        connection.handler.client = self
        connection.handler.pool = pool
    }

    private func forward(_ part: HTTPClientRequestPart) {
        if let upstream {
            upstream.writeAndFlush(part, promise: nil)
        } else {
            pending.append(part)
        }
    }

    /// A part of the upstream's answer.
    func answer(_ part: HTTPClientResponsePart) {
        guard let context else { return }
        switch part {
        case .head(let head):
            context.write(
                wrapOutboundOut(
                    .head(HTTPResponseHead(version: head.version, status: head.status, headers: head.headers))),
                promise: nil)
        case .body(let bytes):
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        case .end(let trailers):
            upstream = nil
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    func upstreamFailed() {
        upstream = nil
        context?.close(promise: nil)
    }
}

/// The upstream side: hands the answer to the client handler, then the connection back to the pool.
final class FloorUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    var client: FloorClientHandler?
    var pool: FloorPool?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        client?.answer(part)
        if case .end = part {
            client = nil
            pool?.release(FloorConnection(channel: context.channel, handler: self))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        client?.upstreamFailed()
        client = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
