import NIOCore
import NIOPosix

// The bytes floor: no HTTP (main.swift).

/// One side of a byte relay: what it reads, its partner writes.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A client connection of the byte relay: its reads wait until the upstream connection is made.
func relay(_ channel: any Channel, upstreamPort: Int) -> EventLoopFuture<Void> {
    let client = GlueHandler()
    let upstream = GlueHandler()
    client.partner = upstream
    upstream.partner = client
    return ClientBootstrap(group: channel.eventLoop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { upstreamChannel in
            upstreamChannel.eventLoop.makeCompletedFuture {
                try upstreamChannel.pipeline.syncOperations.addHandler(upstream)
            }
        }
        .connect(host: "127.0.0.1", port: upstreamPort)
        .flatMapThrowing { _ in try channel.pipeline.syncOperations.addHandler(client) }
}
