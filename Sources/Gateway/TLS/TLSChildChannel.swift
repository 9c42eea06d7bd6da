import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// A listener's child channel over TLS (docs/tls.md §1): NIOSSL's server
/// handler, with the context in force when the connection is accepted, in
/// front of `base`'s handlers. A client that speaks plain HTTP to the port gets
/// a plain 400 and the connection closes.
struct TLSChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let certificate: ListenerCertificate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(PlainHTTPRefusal())
            try pipeline.addHandler(NIOSSLServerHandler(context: certificate.context))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Looks at the first bytes of a TLS listener's connection: a TLS record (a
/// handshake, `0x16`) passes on to NIOSSL and this handler leaves the pipeline;
/// anything else is answered with a plain-text HTTP 400 `plain_http_to_tls`
/// (as nginx answers "The plain HTTP request was sent to HTTPS port") and closed,
/// rather than with a TLS alert a plain-HTTP client cannot read.
final class PlainHTTPRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The content type of a TLS handshake record (RFC 8446 §5.1).
    static let handshakeRecord: UInt8 = 0x16

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        if first == Self.handshakeRecord {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        let error = GatewayError(
            .plainHTTPToTLS, "this port speaks HTTPS: send the request over TLS (https://), not plain HTTP")
        let answer = ByteBuffer(string: error.closingMessage(requestId: RequestID.make()))
        // Written from this handler, so it goes out in plain text under NIOSSL's handler.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
