import Hummingbird
import NIOCore

/// The request context of the main listener: Hummingbird's core context, the
/// client's address (for `X-Forwarded-For` and throttling), and the request's
/// access record, which the handlers note facts in and `AccessLogMiddleware` writes.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    let access = AccessNotes()
    /// The connection, for `ContinueAuthorizedEvent`.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The client's IP address as text, without the port.
    var clientAddress: String? { remoteAddress?.ipAddress }

    /// The request id: the client's `X-Request-Id` when acceptable, else a random one.
    var requestId: String { access.requestId }
}
