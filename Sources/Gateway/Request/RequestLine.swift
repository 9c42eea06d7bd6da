/// The request line a credential is checked against and a decision is made on.
struct RequestLine: Sendable {
    let method: String
    /// As received, still percent-encoded.
    let rawPath: Substring
    /// As received, without `?`; the `jwt` parameter may still be in it.
    let rawQuery: Substring?
    /// A form body, read for OAuth 1.0a requests, whose parameters are signed (RFC 5849 §3.4.1.3.1).
    var formBody: String? = nil
    /// The client's address, for slowing down repeated failures.
    var clientAddress: String? = nil
}

extension RequestLine {
    init(method: String, rawPath: Substring, rawQuery: Substring?) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
    }

    /// The method and the raw path and query of `target`, refusing targets that
    /// are not origin-form, carry a `#`, or are not well percent-encoded. Both
    /// data paths (docs/gateway.md §3) parse the request target here and forward
    /// exactly the bytes it returns.
    static func parse(method: String, target: String) throws(GatewayError) -> RequestLine {
        guard target.utf8.first == UInt8(ascii: "/") else {
            throw GatewayError(.badTarget, "the request target must be a path starting with /")
        }
        // A fragment is never sent (RFC 9110 §7.1): a peer would cut the target at it
        // and receive another path than the one decided on.
        // One pass over the bytes in place for both (a native string's are contiguous).
        let (hasFragment, questionOffset) =
            target.utf8.withContiguousStorageIfAvailable { bytes in
                (bytes.contains(UInt8(ascii: "#")), bytes.firstIndex(of: UInt8(ascii: "?")))
            }
            ?? (
                target.utf8.contains(UInt8(ascii: "#")),
                target.utf8.firstIndex(of: UInt8(ascii: "?")).map {
                    target.utf8.distance(from: target.utf8.startIndex, to: $0)
                }
            )
        guard !hasFragment else {
            throw GatewayError(.badTarget, "the request target must not contain #")
        }
        let question = questionOffset.map { target.utf8.index(target.utf8.startIndex, offsetBy: $0) }
        let rawPath = question.map { target[..<$0] } ?? target[...]
        // Past the `?` byte, not the `?` character: a combining mark after it is part of the query.
        let rawQuery = question.map { target[target.utf8.index(after: $0)...] }
        // Also refuses a malformed `%` in the path: one pass over its segments.
        if let problem = PathNormalization.problem(in: rawPath) {
            throw GatewayError(.pathNotNormalized, problem)
        }
        if let rawQuery, !QueryParameters.isWellFormed(rawQuery) {
            throw GatewayError(.badQueryEncoding, "the query has a % that is not followed by two hex digits")
        }
        return RequestLine(method: method, rawPath: rawPath, rawQuery: rawQuery)
    }
}
