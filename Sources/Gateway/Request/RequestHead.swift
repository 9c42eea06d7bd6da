import HTTPTypes
import Hummingbird

/// Limits on the request head, for every request on the main listener: the
/// gateway's own endpoints and the proxy alike (docs/gateway.md §4).
enum RequestHead {
    /// Largest request head accepted: more is a 431.
    static let maxHeaderBytes = 16 * 1024

    /// 431 when the request head is over 16 KiB.
    static func checkSize(_ request: Request) throws(GatewayError) {
        var size = (request.head.path?.utf8.count ?? 0) + (request.head.authority?.utf8.count ?? 0)
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        guard size <= maxHeaderBytes else {
            throw GatewayError(
                .headersTooLarge, "the request headers are \(size) bytes; at most \(maxHeaderBytes) are accepted")
        }
    }
}
