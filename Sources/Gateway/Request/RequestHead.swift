import HTTPTypes
import Hummingbird
import NIOHTTP1

/// Limits on the request head, for every request on the main listener: the
/// gateway's own endpoints and the proxy alike, on both data paths
/// (docs/gateway.md §4).
enum RequestHead {
    /// Largest request head accepted: more is a 431.
    static let maxHeaderBytes = 16 * 1024

    /// Every check of a head Hummingbird parsed: its size, then `Host`.
    static func check(_ request: Request) throws(GatewayError) {
        var size = (request.head.path?.utf8.count ?? 0) + (request.head.authority?.utf8.count ?? 0)
        for field in request.headers { size += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        try checkSize(size)
        // The first Host became the authority; another one stays among the fields.
        let authority = request.head.authority
        try checkHost(authority, count: (authority == nil ? 0 : 1) + request.headers[values: hostField].count)
    }

    /// The same checks of a head as NIO parsed it (the fast path).
    static func check(_ head: HTTPRequestHead) throws(GatewayError) {
        var size = head.uri.utf8.count
        var hosts = 0
        var authority: String?
        for (name, value) in head.headers {
            if isHost(name) {
                hosts += 1
                if authority == nil { authority = value }
                size += value.utf8.count
            } else {
                size += name.utf8.count + value.utf8.count + 4
            }
        }
        try checkSize(size)
        try checkHost(authority, count: hosts)
    }

    /// 400 for a request without `Host`, with two, or with userinfo in it (RFC 9112
    /// §3.2): which site it is for would be a guess, and peers may guess otherwise.
    static func checkHost(_ authority: String?, count: Int) throws(GatewayError) {
        guard let authority, !authority.isEmpty else {
            throw GatewayError(.badHost, "the request has no Host header")
        }
        guard count == 1 else {
            throw GatewayError(.badHost, "the request has more than one Host header")
        }
        guard !authority.utf8.contains(UInt8(ascii: "@")) else {
            throw GatewayError(.badHost, "the Host header must not carry userinfo")
        }
    }

    private static let hostField = HTTPField.Name("Host")!

    /// Whether a header name is `Host` in any case, without a lower-cased copy.
    private static func isHost(_ name: String) -> Bool {
        name.utf8.count == 4 && name.utf8.elementsEqual("host".utf8) { $0 | 0x20 == $1 }
    }

    /// 431 when the request head is over 16 KiB.
    static func checkSize(_ size: Int) throws(GatewayError) {
        guard size <= maxHeaderBytes else {
            throw GatewayError(
                .headersTooLarge, "the request headers are \(size) bytes; at most \(maxHeaderBytes) are accepted")
        }
    }
}
