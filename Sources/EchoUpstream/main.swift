import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// `linkgate-echo`: the small upstream Linkgate ships for demos (`make run`),
/// tests and benchmarks. It answers every request with JSON describing what it
/// received (method, target, headers, body size and a checksum), streaming the
/// body so uploads of any size use little memory. Request headers steer it:
///
/// - `X-Echo-Delay-Ms: N`: wait N ms before answering (a slow upstream);
/// - `X-Echo-Bytes: N`: answer with N bytes of body, streamed (a large download);
/// - `X-Echo-Status: N`: answer with status N;
/// - `X-Echo-Set-Cookie: VALUE` (repeatable): answer with `Set-Cookie: VALUE`.
///
/// `GET /__echo/count` answers how many other requests it has served, so a
/// test can prove that a refused request never reached the upstream.
/// `GET /__echo/inflight` answers how many other requests it is handling now
/// (received, not yet answered), so a test can wait until slow requests have
/// arrived (docs/gateway.md §9).
/// `GET /__echo/streamed` answers how many body bytes the `X-Echo-Bytes` answers
/// have written so far (each write counted once the connection took it), and
/// `GET /__echo/streams` how many of those answers are being written now, so a
/// test can see how far a slow client let a download get, and that it ended.
@main
struct EchoUpstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linkgate-echo",
        abstract: "An upstream that echoes each request as JSON (for demos, tests and benchmarks).")

    @Option(help: ArgumentHelp("Where to listen; port 0 picks a free port.", valueName: "HOST:PORT"))
    var listen: String = "127.0.0.1:9000"

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT")
        }
        let host = String(listen[..<colon])
        let app = Application(
            responder: EchoResponder(),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                writeLine("linkgate-echo: listening on http://\(host):\(channel.localAddress?.port ?? port)")
            })
        try await app.runService()
    }
}

final class EchoResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    /// Requests received, but for `/__echo/…`.
    let served = Atomic<Int>(0)
    /// Requests received whose response has not been made yet (a delay or a body being read).
    let inFlight = Atomic<Int>(0)
    /// Body bytes written by `X-Echo-Bytes` answers, all of them together.
    let streamed = Atomic<Int>(0)
    /// `X-Echo-Bytes` answers whose body is being written now.
    let streams = Atomic<Int>(0)

    func respond(to request: Request, context: Context) async throws -> Response {
        switch request.head.path {
        case "/__echo/count": return Self.plain(served.load(ordering: .relaxed))
        case "/__echo/inflight": return Self.plain(inFlight.load(ordering: .relaxed))
        case "/__echo/streamed": return Self.plain(streamed.load(ordering: .relaxed))
        case "/__echo/streams": return Self.plain(streams.load(ordering: .relaxed))
        default: break
        }
        served.add(1, ordering: .relaxed)
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let headers = request.headers
        if let delay = headers[HTTPField.Name("X-Echo-Delay-Ms")!].flatMap({ Int($0) }), delay > 0 {
            try await Task.sleep(for: .milliseconds(delay))
        }
        // The checksum is asked for (`X-Echo-Checksum: 1`): a byte loop is slow in debug builds.
        var checksum: Fletcher64? = headers[HTTPField.Name("X-Echo-Checksum")!] == "1" ? Fletcher64() : nil
        var received = 0
        for try await buffer in request.body {
            received += buffer.readableBytes
            buffer.withUnsafeReadableBytes { checksum?.add($0) }
        }
        let status = headers[HTTPField.Name("X-Echo-Status")!].flatMap { Int($0) } ?? 200
        if let count = headers[HTTPField.Name("X-Echo-Bytes")!].flatMap({ Int($0) }), count >= 0 {
            return Response(
                status: .init(code: status), headers: [.contentType: "application/octet-stream"],
                body: stream(bytes: count))
        }
        let description = EchoDescription(
            method: request.method.rawValue, target: request.head.path ?? "",
            headers: headers.map { [$0.name.rawName, $0.value] }, bodyBytes: received, bodyChecksum: checksum?.value)
        let json = try JSONEncoder().encode(description)
        var answerHeaders: HTTPFields = [.contentType: "application/json"]
        for cookie in headers[values: HTTPField.Name("X-Echo-Set-Cookie")!] {
            answerHeaders.append(HTTPField(name: .setCookie, value: cookie))
        }
        return Response(
            status: .init(code: status), headers: answerHeaders, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json))
        )
    }

    static func plain(_ number: Int) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "\(number)")))
    }

    /// `count` bytes of a repeating pattern, written in 64 KiB chunks as the client reads them.
    func stream(bytes count: Int) -> ResponseBody {
        ResponseBody(contentLength: count) { writer in
            self.streams.add(1, ordering: .relaxed)
            defer { self.streams.subtract(1, ordering: .relaxed) }
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var left = count
            while left > 0 {
                let size = min(left, chunk.readableBytes)
                try await writer.write(chunk.getSlice(at: 0, length: size)!)
                self.streamed.add(size, ordering: .relaxed)
                left -= size
            }
            try await writer.finish(nil)
        }
    }
}

/// What the echo answers: enough for a test to check every forwarded detail.
struct EchoDescription: Codable {
    let method: String
    let target: String
    /// In the order received, names as sent.
    let headers: [[String]]
    let bodyBytes: Int
    let bodyChecksum: UInt64?
}

/// Fletcher-64 over the body bytes: cheap, order-sensitive, enough to show a
/// body arrived intact (tests compute the same over what they sent).
struct Fletcher64 {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            low = (low &+ UInt64(byte)) % 0xFFFF_FFFF
            high = (high &+ low) % 0xFFFF_FFFF
        }
    }

    var value: UInt64 { high << 32 | low }
}

/// Writes one line to standard output at once (startup lines that scripts wait for).
func writeLine(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
}
