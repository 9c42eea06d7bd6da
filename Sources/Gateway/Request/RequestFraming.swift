/// How a request's body is framed, read from its head before anything reads
/// the body (RFC 9112 §6.3): refused when its length cannot be known, and
/// whether it expects `100 Continue` (docs/gateway.md §4).
enum RequestFraming {
    /// Why the `Transfer-Encoding` values are refused, or nil: a last coding that
    /// is not `chunked` leaves the length unknown, and the parser would take what
    /// follows for another request or for this one's body, where the upstream might
    /// take it otherwise.
    static func problem(transferEncoding values: some Sequence<String>) -> String? {
        let codings = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
        guard let last = codings.last else { return nil }
        guard last == "chunked" else {
            return "the last transfer coding is \"\(last.prefix(32))\", not chunked: the body's length is unknown"
        }
        return nil
    }

    /// Whether a request has a body (RFC 9112 §6.3): its `Content-Length` when it has
    /// one (0: none), otherwise whether it has a `Transfer-Encoding`. The forwarded
    /// framing (`ForwardedHeaders.frame`) and the fast path's OAuth 1.0a step ask this.
    static func hasBody(contentLength: String?, hasTransferEncoding: Bool) -> Bool {
        if let contentLength { return contentLength != "0" }
        return hasTransferEncoding
    }

    /// Whether an `Expect` value asks for `100 Continue`.
    static func expectsContinue(_ values: some Sequence<String>) -> Bool {
        values.contains { $0.trimmingSpaces().lowercased() == "100-continue" }
    }
}
