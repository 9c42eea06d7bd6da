import HTTPTypes
import Hummingbird

/// Limits on the request head, for every request on the main listener: the
/// gateway's own endpoints and the proxy alike (docs/gateway.md §4).
enum RequestHead {
    /// Largest request head accepted: more is a 431.
    static let maxHeaderBytes = 16 * 1024

    /// Every check of the head: its size, then `Host`.
    static func check(_ request: Request) throws(GatewayError) {
        try checkSize(request)
        try checkHost(request)
    }

    /// 400 for a request without `Host`, with two, or with userinfo in it (RFC 9112
    /// §3.2): which site it is for would be a guess, and peers may guess otherwise.
    static func checkHost(_ request: Request) throws(GatewayError) {
        guard let authority = request.head.authority, !authority.isEmpty else {
            throw GatewayError(.badHost, "the request has no Host header")
        }
        // The first Host became the authority; another one stays among the fields.
        guard request.headers[values: hostField].isEmpty else {
            throw GatewayError(.badHost, "the request has more than one Host header")
        }
        guard !authority.contains("@") else {
            throw GatewayError(.badHost, "the Host header must not carry userinfo")
        }
    }

    private static let hostField = HTTPField.Name("Host")!

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
