import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Refuses a request whose body length cannot be known before anything reads
/// it: a `Transfer-Encoding` whose last coding is not `chunked` (RFC 9112 §6.3).
/// The parser would take what follows for another request or for this one's
/// body, and the upstream might take it otherwise: the answer is a 400 and the
/// connection closes, so nothing after the head is read (docs/gateway.md §4).
final class FramingGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .head(let head) = unwrapInboundIn(data), let problem = Self.problem(head.headerFields) else {
            context.fireChannelRead(data)
            return
        }
        refused = true
        let error = GatewayError(.badFraming, problem)
        let body = ByteBuffer(string: error.body)
        let answer = HTTPResponse(
            status: .badRequest,
            headerFields: [
                .contentType: "application/json", .cacheControl: "no-store", .connection: "close",
                .contentLength: String(body.readableBytes),
            ])
        context.write(wrapOutboundOut(.head(answer)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    /// Why the head's framing is refused, or nil.
    static func problem(_ fields: HTTPFields) -> String? {
        let codings = fields[values: .transferEncoding].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces().lowercased() }
        guard let last = codings.last else { return nil }
        guard last == "chunked" else {
            return "the last transfer coding is \"\(last.prefix(32))\", not chunked: the body's length is unknown"
        }
        return nil
    }
}

@available(*, unavailable)
extension FramingGuardHandler: Sendable {}
