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
