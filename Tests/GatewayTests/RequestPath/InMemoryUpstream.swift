import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

@testable import Gateway

/// An upstream that answers in memory: it records what the gateway forwarded
/// and answers with `reply`, or fails as `reply` says.
final class InMemoryUpstream: Upstream {
    /// What reached the upstream: exactly the bytes the gateway forwarded.
    struct Forwarded: Sendable {
        let method: String
        let upstream: String
        /// The path and query as sent upstream.
        let target: String
        let headers: HTTPHeaders
        let body: String
    }

    typealias Reply = @Sendable (Forwarded) throws(GatewayError) -> (status: Int, headers: HTTPFields, body: String)

    private let received = Mutex<[Forwarded]>([])
    private let reply: Mutex<Reply>

    init(reply: @escaping Reply = { _ in (200, [.contentType: "text/plain"], "upstream says hi") }) {
        self.reply = Mutex(reply)
    }

    /// Everything forwarded so far, oldest first.
    var requests: [Forwarded] { received.withLock { $0 } }

    func answer(with reply: @escaping Reply) { self.reply.withLock { $0 = reply } }

    func forward(
        _ request: Request, to target: UpstreamTarget, rawPath: Substring, rawQuery: Substring?, headers: HTTPHeaders,
        logger: Logger
    ) async throws(GatewayError) -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 20)
        } catch {
            throw .upstreamUnreachable(target.name)
        }
        let forwarded = Forwarded(
            method: request.method.rawValue, upstream: target.name,
            target: String(rawPath) + (rawQuery.map { "?" + $0 } ?? ""), headers: headers, body: String(buffer: body))
        received.withLock { $0.append(forwarded) }
        let (status, fields, text) = try reply.withLock { $0 }(forwarded)
        return Response(
            status: HTTPResponse.Status(code: status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
