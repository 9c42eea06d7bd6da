import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

// The floors of a SwiftNIO reverse proxy, for `make bench-proxy` (README, "The
// gateway as a proxy"): what linkgate's data plane would cost if the gateway's own
// work were free, measured in the same run as nginx and linkgate, so the report
// can say how far the gateway's targets are from what NIO allows on this machine.
// No authentication, no decision, no header rules, no log, no metrics, no
// timeouts; each mode a layer lower than the one before:
//
//   http     NIO's HTTP/1.1 server handlers in front (the ones linkgate's data
//            plane uses), a keep-alive upstream connection per exchange from a
//            per-loop pool made with `ClientBootstrap` and NIO's HTTP client
//            handlers behind (HTTPFloor.swift)
//   framing  the same pool, with HTTP/1.1 framed by hand on the sockets' bytes
//            instead of NIO's HTTP handlers (FramingFloor.swift)
//   tcp      no HTTP at all: each client connection gets its own upstream
//            connection and bytes are relayed both ways as they come, as
//            swift-nio-examples' connect-proxy `GlueHandler` does (ByteRelay.swift)
//
// They are measuring instruments, not proxies to run: they stream bodies without
// backpressure (the benchmark's requests have none and its answers are small) and
// close a client connection on any upstream failure.
//
//     NIOFloorProxy PORT UPSTREAM_PORT [http|framing|tcp]     (both on 127.0.0.1)

enum FloorMode: String {
    case http, framing, tcp
}

let arguments = CommandLine.arguments
guard (3...4).contains(arguments.count), let port = Int(arguments[1]), let upstreamPort = Int(arguments[2]),
    let mode = arguments.count == 3 ? .http : FloorMode(rawValue: arguments[3])
else {
    print("usage: NIOFloorProxy PORT UPSTREAM_PORT [http|framing|tcp]")
    exit(2)
}

/// One loop per CPU the process may run on, as linkgate starts (its `EventLoopRuntime`):
/// `System.coreCount` counts the machine's CPUs whatever `taskset` allows, and two
/// loops on one CPU would share it with the origin two against one (README, "The
/// floors ran two loops").
func allowedCPUCount() -> Int {
    let all = System.coreCount
    guard let file = fopen("/proc/self/status", "r") else { return all }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard text.hasPrefix("Cpus_allowed:") else { continue }
        let count = text.dropFirst("Cpus_allowed:".count).reduce(0) { total, character in
            total + (character.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? min(count, all) : all
    }
    return all
}

let loops = allowedCPUCount()
let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
let httpPools = PerLoop(group) { FloorPool(eventLoop: $0, upstreamPort: upstreamPort) }
let framingPools = PerLoop(group) { FramingPool(eventLoop: $0, upstreamPort: upstreamPort) }
let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        switch mode {
        case .tcp:
            return relay(channel, upstreamPort: upstreamPort)
        case .framing:
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(FramingClient(pools: framingPools))
            }
        case .http:
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(FloorClientHandler(pools: httpPools))
            }
        }
    }
    .bind(host: "127.0.0.1", port: port)
    .wait()
print("NIOFloorProxy (\(mode.rawValue)) on 127.0.0.1:\(port) -> 127.0.0.1:\(upstreamPort), \(loops) loop(s)")
fflush(nil)
try server.closeFuture.wait()
