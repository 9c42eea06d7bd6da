import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

/// The main listener's child channel (docs/gateway.md §3): the byte path
/// (`ByteFrontHandler`), NIO's HTTP/1.1 server handlers (with pipelining
/// assistance; parse errors are answered by `DataPlaneHandler`), then
/// `DataPlaneHandler`, then what Hummingbird's own
/// `HTTP1Channel` puts behind them for the requests passed on to its router.
struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let plane: DataPlane

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let reads = ReadCounter()
            try pipeline.addHandler(reads)
            let dataPlane = DataPlaneHandler(plane: plane, readCounter: reads)
            if plane.usesBytePath {
                try pipeline.addHandler(ByteFrontHandler(plane: plane, dataPlaneHandler: dataPlane))
            }
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false)
            try pipeline.addHandler(dataPlane)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: plane.isSecure))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// The main listener's server: `GatewayChannel` on every connection, over
    /// TLS when `tls` is given (docs/tls.md §1).
    static func gateway(
        plane: DataPlane, connections: ConnectionCount, tls: ListenerCertificate? = nil
    )
        -> HTTPServerBuilder
    {
        HTTPServerBuilder { responder in
            let base = LimitedChildChannel(base: GatewayChannel(responder: responder, plane: plane), count: connections)
            return ListenerChannel(base: base, tls: tls)
        }
    }

    /// The admin and authz listeners' server: Hummingbird's HTTP/1.1 channel,
    /// limited the same way, over TLS when `tls` is given.
    static func admin(connections: ConnectionCount, tls: ListenerCertificate? = nil) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            let base = LimitedChildChannel(
                base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .seconds(75))),
                count: connections)
            return ListenerChannel(base: base, tls: tls)
        }
    }
}

/// How many connections a listener has open, against `connections.max`.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)
    /// The limit in force (the live policy's `connections.max`).
    let limit: @Sendable () -> Int

    init(limit: @escaping @Sendable () -> Int) {
        self.limit = limit
    }

    /// Counts a new connection, unless the limit is reached.
    func admit() -> Bool {
        let max = limit()
        guard open.wrappingAdd(1, ordering: .relaxed).newValue > max else { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func release() { open.wrappingSubtract(1, ordering: .relaxed) }

    var current: Int { open.load(ordering: .relaxed) }
}

/// A listener's child channel that keeps at most `connections.max` connections:
/// one more gets a 503 `too_many_connections` written straight to its socket, and
/// is closed before anything of it is read (docs/gateway.md §1, "Client connections").
struct LimitedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let count: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        if count.admit() {
            let count = count
            channel.closeFuture.whenComplete { _ in count.release() }
        } else {
            // Written before any handler is added, so the bytes go out as they are.
            let error = GatewayError(
                .tooManyConnections, "the gateway has \(count.limit()) connections open, its limit; try again later")
            channel.writeAndFlush(ByteBuffer(string: error.closingMessage(requestId: RequestID.make()))).whenComplete {
                _ in
                channel.close(promise: nil)
            }
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// A listener's child channel: `base` as it is, or behind TLS (`TLSChildChannel`),
/// each connection handed to its task as an `AcceptedConnection`.
struct ListenerChannel<Base: ServerChildChannel, Inbound: Sendable, Outbound: Sendable>: ServerChildChannel
where Base.Value == NIOAsyncChannel<Inbound, Outbound> {
    typealias Value = AcceptedConnection<Inbound, Outbound>

    let base: Base
    let tls: ListenerCertificate?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection: EventLoopFuture<Base.Value>
        if let tls {
            connection = TLSChildChannel(base: base, certificate: tls).setup(channel: channel, logger: logger)
        } else {
            connection = base.setup(channel: channel, logger: logger)
        }
        return connection.map { AcceptedConnection($0) }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value.serve(), logger: logger)
    }
}

/// A connection's `NIOAsyncChannel` between the listener that accepted it and
/// the task that serves it. A connection accepted as the server stops taking
/// new ones never reaches a task: Hummingbird's server drops it unserved, and
/// NIO traps when a channel's writer goes without being finished (swift-nio
/// issue 2637). Dropped here, a task takes the channel at once (so the writer
/// is never the last thing dropped) and finishes and closes it
/// (docs/gateway.md §1, "Shutdown").
final class AcceptedConnection<Inbound: Sendable, Outbound: Sendable>: ServerChildChannelValue {
    private let asyncChannel: NIOAsyncChannel<Inbound, Outbound>
    private let served = Atomic<Bool>(false)

    var channel: any Channel { asyncChannel.channel }

    init(_ asyncChannel: NIOAsyncChannel<Inbound, Outbound>) {
        self.asyncChannel = asyncChannel
    }

    /// The channel, for the task that serves it (and then finishes it).
    func serve() -> NIOAsyncChannel<Inbound, Outbound> {
        served.store(true, ordering: .relaxed)
        return asyncChannel
    }

    deinit {
        guard !served.load(ordering: .relaxed) else { return }
        let asyncChannel = asyncChannel
        Task { try? await asyncChannel.executeThenClose { _, _ in } }
    }
}
