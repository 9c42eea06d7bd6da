import NIOCore
import NIOEmbedded
import Policy
import Testing

@testable import Gateway

/// The byte path's upstream heads: written at once, sent together at the end of the
/// event loop's turn (docs/gateway.md §3, "The byte path").
@Suite("Upstream heads flushed at the end of the loop's turn")
struct UpstreamFlushTests {
    /// `count` upstream connections on one loop, with the byte path's handler and the loop's
    /// pool (which the handlers hold until they leave their pipelines; they flush at once without it).
    static func connections(_ count: Int) throws -> (EmbeddedEventLoop, [EmbeddedChannel], UpstreamPool) {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool(eventLoop: loop, connectionSettings: { ConnectionSettings() })
        var channels: [EmbeddedChannel] = []
        for _ in 0..<count {
            let handler = UpstreamHandler<ByteBuffer>()
            handler.pool = pool
            let channel = EmbeddedChannel(handler: handler, loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
            channels.append(channel)
        }
        return (loop, channels, pool)
    }

    static func handler(of channel: EmbeddedChannel) throws -> UpstreamHandler<ByteBuffer> {
        try channel.pipeline.syncOperations.handler(type: UpstreamHandler<ByteBuffer>.self)
    }

    @Test("heads written in one turn reach their sockets together when the turn ends, each unchanged")
    func flushedAtEndOfTurn() throws {
        let (loop, channels, pool) = try Self.connections(2)
        defer { withExtendedLifetime(pool) {} }
        let heads = ["GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD /b HTTP/1.1\r\nHost: b\r\n\r\n"]
        for (channel, head) in zip(channels, heads) {
            try Self.handler(of: channel).sendAtEndOfTurn(ByteBuffer(string: head), channel: channel)
        }
        for channel in channels {
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "sent before the turn ended")
        }
        loop.run()
        for (channel, head) in zip(channels, heads) {
            #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: head))
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        }
        // The next turn's head waits for that turn's end again.
        try Self.handler(of: channels[0]).sendAtEndOfTurn(ByteBuffer(string: heads[0]), channel: channels[0])
        #expect(try channels[0].readOutbound(as: ByteBuffer.self) == nil)
        loop.run()
        #expect(try channels[0].readOutbound(as: ByteBuffer.self) == ByteBuffer(string: heads[0]))
        for channel in channels { _ = try channel.finish() }
    }

    @Test("a connection closed before the turn ends is skipped; the others are sent")
    func closedBeforeTurnEnds() throws {
        let (loop, channels, pool) = try Self.connections(2)
        defer { withExtendedLifetime(pool) {} }
        let first = try Self.handler(of: channels[0])
        first.sendAtEndOfTurn(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\n"), channel: channels[0])
        try Self.handler(of: channels[1]).sendAtEndOfTurn(
            ByteBuffer(string: "GET /b HTTP/1.1\r\n\r\n"), channel: channels[1])
        _ = try channels[0].finish()
        loop.run()
        #expect(try channels[1].readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "GET /b HTTP/1.1\r\n\r\n"))
        _ = try channels[1].finish()
    }

    @Test("without a pool the head is sent at once")
    func withoutPool() throws {
        let handler = UpstreamHandler<ByteBuffer>()
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        handler.sendAtEndOfTurn(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), channel: channel)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        _ = try channel.finish()
    }

    /// An exchange the sweeper watches, with a deadline set by the test.
    final class WatchedExchange: TimedExchange {
        var deadline: NIODeadline
        var sweepSlot = -1
        private(set) var timeouts = 0
        init(deadline: NIODeadline) { self.deadline = deadline }
        func timedOut() { timeouts += 1 }
    }

    @Test("the sweeper times out the watched exchanges past their deadline, whatever order they finished in")
    func sweeperSlots() {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool(eventLoop: loop, connectionSettings: { ConnectionSettings() })
        let late = NIODeadline.uptimeNanoseconds(1)
        let exchanges = (0..<6).map { WatchedExchange(deadline: $0.isMultiple(of: 2) ? late : .distantFuture) }
        for exchange in exchanges { pool.started(exchange) }
        pool.started(exchanges[0])  // watched once, however often started
        // Finished: the first (a late one), the last (on time) and one in the middle (late), twice.
        for index in [0, 5, 2, 2] { pool.finished(exchanges[index]) }
        #expect(exchanges.map(\.sweepSlot).filter { $0 >= 0 }.sorted() == [0, 1, 2])
        loop.advanceTime(by: UpstreamPool.sweepInterval)
        #expect(exchanges.map(\.timeouts) == [0, 0, 0, 0, 1, 0])
        for exchange in exchanges { pool.finished(exchange) }
        #expect(exchanges.allSatisfy { $0.sweepSlot == -1 })
        pool.shutdown()
    }
}
