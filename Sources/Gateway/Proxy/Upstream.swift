import Hummingbird
import Logging
import NIOHTTP1

/// Where the Hummingbird path sends allowed requests: `PooledUpstream` (the
/// fast path's pools) on a real listener, an in-memory upstream in the
/// in-process tests of the request path.
protocol Upstream: Sendable {
    /// Sends the request with exactly the path and query that were decided on and
    /// the rewritten `headers`; answers with the upstream's response, its body
    /// still streaming.
    /// - Throws: `GatewayError`: 502 when the upstream cannot be reached, 504 when it is too slow.
    func forward(
        _ request: Request, to target: UpstreamTarget, rawPath: Substring, rawQuery: Substring?, headers: HTTPHeaders,
        logger: Logger
    ) async throws(GatewayError) -> Response
}
