import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Policy

/// How an upstream connection reads and writes HTTP: NIO's HTTP/1.1 client
/// handlers (parts), or the byte path's framing by hand (`ByteUpstreamHandler`).
enum UpstreamCodec: Hashable {
    case http
    case bytes
}

/// The pool's key for idle connections: the upstream's origin and TLS settings
/// (`UpstreamTarget.poolKey`) and the codec its pipeline has.
struct UpstreamPoolKey: Hashable {
    let origin: String
    let codec: UpstreamCodec
}

/// One keep-alive connection to an upstream, owned by the pool of its event loop.
final class UpstreamConnection {
    let channel: any Channel
    /// The end of its pipeline, by codec: one of the two is set.
    let handler: UpstreamHandler<HTTPClientResponsePart>!
    let byteHandler: UpstreamHandler<ByteBuffer>!
    let poolKey: UpstreamPoolKey
    /// Requests answered on this connection so far: a connection that served one
    /// may have been closed by the upstream in between (`ProxyExchange` retries).
    var served = 0
    /// When it went back to the pool.
    var idleSince = NIODeadline.now()
    /// The pool's list of idle connections it goes back to, found by `poolKey` on its
    /// first release (the pool keeps its lists until shutdown).
    var idleList: IdleConnections?

    init(
        channel: any Channel, handler: UpstreamHandler<HTTPClientResponsePart>?,
        byteHandler: UpstreamHandler<ByteBuffer>?, poolKey: UpstreamPoolKey
    ) {
        self.channel = channel
        self.handler = handler
        self.byteHandler = byteHandler
        self.poolKey = poolKey
    }

    /// No exchange uses it any more.
    func detach() {
        handler?.exchange = nil
        byteHandler?.exchange = nil
    }

    /// Reads again (a read held back for a slow client may be pending).
    func resumeReading() {
        handler?.resumeReading()
        byteHandler?.resumeReading()
    }
}

/// An exchange whose upstream may fall silent: the pool's sweeper watches its deadline.
protocol TimedExchange: AnyObject {
    /// When the upstream's silence becomes a timeout (checked by the pool's sweeper).
    var deadline: NIODeadline { get }
    func timedOut()
    /// Where the pool keeps the exchange while it watches it; -1 when it does not.
    var sweepSlot: Int { get set }
}

/// The idle connections to one origin, the most recently used last. A class, so
/// that taking one and putting it back change the list in place: through the
/// dictionary, each would go through its modify accessor, which allocates.
final class IdleConnections {
    var connections: [UpstreamConnection] = []
}

/// The upstream connections of one event loop (docs/gateway.md §3, "Forwarding"):
/// made with `ClientBootstrap` on that loop, so a proxied exchange runs on one
/// thread from the client's bytes to the upstream's and back, without a lock.
/// Idle connections are reused most recently used first, and closed after
/// `idleTimeout`. The pool's one repeating task also watches the upstream
/// timeouts of its loop's exchanges and the client connections' timeouts
/// (docs/gateway.md §1, "Client connections"), not a timer per request.
final class UpstreamPool {
    static let maxIdlePerOrigin = 256
    static let idleTimeout = TimeAmount.seconds(60)
    static let sweepInterval = TimeAmount.milliseconds(100)

    let eventLoop: any EventLoop
    private let connectionSettings: @Sendable () -> ConnectionSettings
    private var idle: [UpstreamPoolKey: IdleConnections] = [:]
    /// The exchanges watched, each knowing its slot: added and removed without hashing.
    private var exchanges: [any TimedExchange] = []
    private var clients: [ObjectIdentifier: DataPlaneHandler] = [:]
    private var sweeper: RepeatedTask?
    private var isShutDown = false
    /// Upstream heads written in this turn of the loop, sent together at its end.
    private var unflushed: [UpstreamHandler<ByteBuffer>] = []
    /// The previous turn's list, kept to swap with `unflushed`: no allocation a turn.
    private var flushing: [UpstreamHandler<ByteBuffer>] = []
    /// The idle list of the last target and codec asked for: a run of requests to
    /// one upstream finds it without hashing its origin. The target is held, so it
    /// is the same object, never a new one at a freed one's address.
    /// Kept as three fields, not an optional tuple: reading them copies nothing.
    private var recentTarget: UpstreamTarget?
    private var recentCodec = UpstreamCodec.http
    private var recentList: IdleConnections?
    /// The live policy's snapshot as this loop's byte path last read it: one per
    /// loop, so an idle client connection holds no replaced snapshot.
    var keptSnapshot: KeptSnapshot?
    /// Request ids for this loop's requests (`RequestID.make(with:)`).
    let requestIds = IDGenerator()

    init(eventLoop: any EventLoop, connectionSettings: @escaping @Sendable () -> ConnectionSettings) {
        self.eventLoop = eventLoop
        self.connectionSettings = connectionSettings
    }

    /// An idle connection to `target` with `codec`, else a new one; `done` runs on this loop.
    func acquire(
        _ target: UpstreamTarget, codec: UpstreamCodec = .http, fresh: Bool = false,
        _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        let key = UpstreamPoolKey(origin: target.poolKey, codec: codec)
        if !fresh, let list = idleList(for: target, codec: codec, key: key) {
            while let connection = list.connections.popLast() {
                if connection.channel.isActive {
                    done(.success(connection))
                    return
                }
            }
        }
        connect(target, key: key, done)
    }

    /// The idle connections of `key`, through `recent` when the target is the last one's.
    private func idleList(for target: UpstreamTarget, codec: UpstreamCodec, key: UpstreamPoolKey) -> IdleConnections? {
        if recentTarget === target, recentCodec == codec, let recentList { return recentList }
        guard let list = idle[key] else { return nil }
        (recentTarget, recentCodec, recentList) = (target, codec, list)
        return list
    }

    /// Flushes `handler`'s upstream connection once this turn of the event loop has
    /// handled every ready socket, with every other head written in the same turn,
    /// instead of at once (docs/gateway.md §3, "The byte path").
    func flushAtEndOfTurn(_ handler: UpstreamHandler<ByteBuffer>) {
        unflushed.append(handler)
        guard unflushed.count == 1 else { return }
        // A task runs after the turn's I/O events, on this loop.
        eventLoop.assumeIsolated().execute { [self] in
            swap(&flushing, &unflushed)
            for handler in flushing { handler.flushWritten() }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    /// Puts `connection` back for the next request to its upstream.
    func release(_ connection: UpstreamConnection) {
        connection.detach()
        // Idle, it reads again (a read held back for a slow client may be pending), so a close is noticed.
        connection.resumeReading()
        guard !isShutDown, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            return
        }
        connection.idleSince = .now()
        let list: IdleConnections
        if let known = connection.idleList {
            list = known
        } else if let existing = idle[connection.poolKey] {
            list = existing
        } else {
            list = IdleConnections()
            idle[connection.poolKey] = list
        }
        connection.idleList = list
        list.connections.append(connection)
        if list.connections.count > Self.maxIdlePerOrigin {
            list.connections.removeFirst().channel.close(promise: nil)
        }
    }

    /// Closes a connection that cannot serve another request (not kept alive,
    /// cut off mid-exchange, or failed).
    func discard(_ connection: UpstreamConnection) {
        connection.detach()
        connection.channel.close(promise: nil)
    }

    /// Forgets an idle connection the upstream closed.
    func remove(_ connection: UpstreamConnection) {
        idle[connection.poolKey]?.connections.removeAll { $0 === connection }
    }

    /// Watches `exchange`'s deadline until `finished(_:)`.
    func started(_ exchange: any TimedExchange) {
        guard exchange.sweepSlot < 0 else { return }
        exchange.sweepSlot = exchanges.count
        exchanges.append(exchange)
        startSweeping()
    }

    /// Stops watching `exchange`: the last one watched takes its slot.
    func finished(_ exchange: any TimedExchange) {
        let slot = exchange.sweepSlot
        guard slot >= 0, slot < exchanges.count, exchanges[slot] === exchange else { return }
        exchange.sweepSlot = -1
        let last = exchanges.removeLast()
        guard slot < exchanges.count else { return }
        exchanges[slot] = last
        last.sweepSlot = slot
    }

    /// Watches a client connection's timeouts until `unwatch(_:)`.
    func watch(_ client: DataPlaneHandler) {
        clients[ObjectIdentifier(client)] = client
        startSweeping()
    }

    func unwatch(_ client: DataPlaneHandler) {
        clients[ObjectIdentifier(client)] = nil
    }

    private func startSweeping() {
        guard sweeper == nil, !isShutDown else { return }
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: Self.sweepInterval, delay: Self.sweepInterval) {
            [unowned self] _ in sweep()
        }
    }

    /// Times out exchanges and client connections past their deadlines and
    /// closes upstream connections idle too long.
    private func sweep() {
        let now = NIODeadline.now()
        for exchange in exchanges where exchange.deadline < now { exchange.timedOut() }
        if !clients.isEmpty {
            let settings = connectionSettings()
            for client in clients.values { client.checkTimeouts(now: now, settings: settings) }
        }
        let oldest = now - Self.idleTimeout
        for list in idle.values where list.connections.first.map({ $0.idleSince < oldest }) ?? false {
            let stale = list.connections.filter { $0.idleSince < oldest }
            list.connections.removeAll { $0.idleSince < oldest }
            for connection in stale { connection.channel.close(promise: nil) }
        }
    }

    /// Closes every idle connection and stops the sweeper; exchanges in flight finish.
    func shutdown() {
        isShutDown = true
        sweeper?.cancel()
        sweeper = nil
        for list in idle.values { for connection in list.connections { connection.channel.close(promise: nil) } }
        idle = [:]
        (recentTarget, recentList) = (nil, nil)
    }

    private func connect(
        _ target: UpstreamTarget, key poolKey: UpstreamPoolKey,
        _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        let tls = target.tls
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(target.connectTimeoutMs)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(
                            NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                    }
                    guard poolKey.codec == .http else {
                        try pipeline.addHandler(UpstreamHandler<ByteBuffer>())
                        return
                    }
                    // No outbound validation: it would refuse a request-target with `|` or `{` that the
                    // gateway decided on and must forward byte for byte; the headers were read by the
                    // gateway's own parser or are its own.
                    try pipeline.addHTTPClientHandlers(
                        leftOverBytesStrategy: .fireError, enableOutboundHeaderValidation: false)
                    try pipeline.addHandler(UpstreamHandler<HTTPClientResponsePart>())
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { [unowned self] result in
                switch result {
                case .success(let channel):
                    do {
                        let pipeline = channel.pipeline.syncOperations
                        let connection: UpstreamConnection
                        if poolKey.codec == .http {
                            let handler = try pipeline.handler(type: UpstreamHandler<HTTPClientResponsePart>.self)
                            connection = UpstreamConnection(
                                channel: channel, handler: handler, byteHandler: nil, poolKey: poolKey)
                            handler.pool = self
                            handler.connection = connection
                        } else {
                            let handler = try pipeline.handler(type: UpstreamHandler<ByteBuffer>.self)
                            connection = UpstreamConnection(
                                channel: channel, handler: nil, byteHandler: handler, poolKey: poolKey)
                            handler.pool = self
                            handler.connection = connection
                        }
                        done(.success(connection))
                    } catch {
                        channel.close(promise: nil)
                        done(.failure(error))
                    }
                case .failure(let error):
                    done(.failure(error))
                }
            }
    }
}

/// One `UpstreamPool` per event loop of the group, found by the loop a
/// connection runs on. Built once; the pools themselves are only touched on their loop.
final class UpstreamPools: @unchecked Sendable {
    private let pools: [ObjectIdentifier: UpstreamPool]

    /// - Parameter connectionSettings: the client connections' limits in force (read once per sweep).
    init(
        group: any EventLoopGroup,
        connectionSettings: @escaping @Sendable () -> ConnectionSettings = { ConnectionSettings() }
    ) {
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop, connectionSettings: connectionSettings)
        }
        self.pools = pools
    }

    /// The pool of `eventLoop`, which the caller runs on.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool? {
        pools[ObjectIdentifier(eventLoop)]
    }

    /// Closes the idle connections of every loop (at shutdown, after the listeners drained).
    func shutdown() async {
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.shutdown() }.get()
        }
    }
}

/// The end of an upstream connection's pipeline: hands the upstream's response,
/// as the `Part`s its pipeline reads (NIO's response parts, or bytes on the byte
/// path), to the exchange using the connection, and holds reads while the client
/// cannot take more (backpressure, as swift-nio-examples' `GlueHandler`).
final class UpstreamHandler<Part>: ChannelDuplexHandler {
    typealias InboundIn = Part
    /// The request's writes pass through as they are.
    typealias OutboundIn = Any

    // The pool and the connection (which owns this handler) are held strongly and
    // let go when the handler leaves the closed connection's pipeline, which ends
    // the cycle. Weak references would give both objects side tables, and every
    // retain of them would take the runtime's slow path, several times a request.
    var pool: UpstreamPool?
    /// Set by the pool once connected.
    var connection: UpstreamConnection?
    /// The exchange this connection serves now; nil while idle in the pool.
    var exchange: (any UpstreamExchange<Part>)?
    private var context: ChannelHandlerContext?
    private var heldRead = HeldRead()

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        pool = nil
        connection = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // Bytes from an idle upstream: it is not following the protocol; drop the connection.
            context.close(promise: nil)
            return
        }
        exchange.upstreamRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstreamBecameWritable() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            exchange.upstreamClosed(error: nil)
        } else if let connection {
            pool?.remove(connection)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        exchange?.upstreamClosed(error: error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        heldRead.read(context, allowed: exchange?.mayReadUpstream ?? true)
    }

    /// Reads again after the client drained what it was sent.
    func resumeReading() { heldRead.resume(context) }
}

extension UpstreamHandler where Part == ByteBuffer {
    /// Writes `bytes` from this handler's place, the end of the pipeline, without
    /// `Channel.write`'s check of the calling thread and its generic wrapping (the byte
    /// path calls it on the connection's event loop, once a request), and flushes them
    /// when the loop's turn ends (`UpstreamPool.flushAtEndOfTurn`), or at once without a pool.
    func sendAtEndOfTurn(_ bytes: ByteBuffer, channel: any Channel) {
        guard let context else {
            channel.writeAndFlush(bytes, promise: nil)
            return
        }
        context.write(NIOAny(bytes), promise: nil)
        if let pool { pool.flushAtEndOfTurn(self) } else { context.flush() }
    }

    /// Sends what was written (`UpstreamPool.flushAtEndOfTurn`); nothing once the handler is gone.
    func flushWritten() {
        context?.flush()
    }
}

/// A `read` held back while the other side of an exchange cannot take more, and
/// issued once it can (backpressure, as swift-nio-examples' `GlueHandler`).
struct HeldRead {
    private(set) var isPending = false

    /// Reads now if `allowed`, else remembers the read.
    mutating func read(_ context: ChannelHandlerContext, allowed: Bool) {
        if allowed {
            context.read()
        } else {
            isPending = true
        }
    }

    /// Issues the remembered read, if any.
    mutating func resume(_ context: ChannelHandlerContext?) {
        guard isPending, let context else { return }
        isPending = false
        context.read()
    }
}
