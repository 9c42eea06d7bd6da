/// `application/x-www-form-urlencoded` read on bytes (the HTML form encoding that
/// RFC 6749 Appendix B names for OAuth requests), with the decoder of the Connect
/// query (`PercentEncoding`, docs/protocols.md §2): `&` separates parameters, the
/// first `=` separates a name from its value, `+` is a space and `%XX` a byte, and
/// names and values must decode to UTF-8.
public enum URLEncodedForm {
    /// One decoded parameter.
    public typealias Parameter = (name: String, value: String)

    /// The parameters of `form`, decoded, in order.
    ///
    /// A piece without `=` carries no value and is skipped unread, like an empty
    /// piece (RFC 6749 §3.1: a parameter sent without a value is treated as omitted);
    /// `name=` has the empty value. Repeated names are all returned: refusing them is
    /// the caller's rule.
    /// - Throws: `invalidQueryEncoding` for a `%` not followed by two hex digits or
    ///   a name or value that is not UTF-8, saying which parameter; never quoting a value.
    public static func parameters<Bytes: Collection>(_ form: Bytes) throws(JWTError) -> [Parameter]
    where Bytes.Element == UInt8 {
        try form.withContiguousBytes { (bytes) throws(JWTError) in
            guard !bytes.isEmpty else { return [] }
            // Decoding never lengthens, so one scratch buffer as long as the form serves every piece.
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) {
                (scratch) throws(JWTError) in try parameters(bytes, scratch: scratch)
            }
        }
    }

    private static func parameters(
        _ form: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<UInt8>
    ) throws(JWTError) -> [Parameter] {
        var parameters: [Parameter] = []
        var start = 0
        while start < form.count {
            let end = form[start...].firstIndex(of: UInt8(ascii: "&")) ?? form.count
            let piece = UnsafeBufferPointer(rebasing: form[start..<end])
            start = end + 1
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = try decode(UnsafeBufferPointer(rebasing: piece[..<equals]), scratch: scratch) {
                "a parameter name in the form"
            }
            let value = try decode(UnsafeBufferPointer(rebasing: piece[(equals + 1)...]), scratch: scratch) {
                "the value of the form parameter \"\(name.prefix(64))\""
            }
            parameters.append((name, value))
        }
        return parameters
    }

    /// One name or value, decoded; `subject` names it in an error.
    private static func decode(
        _ raw: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<UInt8>, subject: () -> String
    ) throws(JWTError) -> String {
        // Most names and values are plain (`grant_type`, `authorization_code`, a JWT): they are their own text.
        if PercentEncoding.isPlain(raw) { return String(decoding: raw, as: UTF8.self) }
        var sink = ByteSink(scratch)
        switch PercentEncoding.formDecoded(raw, into: &sink) {
        case nil:
            return String(decoding: sink.bytes(), as: UTF8.self)
        case .badEscape:
            throw JWTError(.invalidQueryEncoding, "\(subject()) has a '%' that is not followed by two hex digits")
        case .notUTF8:
            throw JWTError(.invalidQueryEncoding, "\(subject()) is not UTF-8 once decoded")
        }
    }
}
