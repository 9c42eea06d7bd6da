import HTTPTypes

extension HTTPFields {
    /// Whether the body is a form (`application/x-www-form-urlencoded`), whose
    /// parameters an OAuth 1.0a signature covers (RFC 5849 §3.4.1.3.1).
    var hasFormBody: Bool {
        self[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }
}
