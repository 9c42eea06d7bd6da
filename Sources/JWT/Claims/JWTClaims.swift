/// Typed access to the registered claims of a claim set (RFC 7519 §4.1).
///
/// Accessors throw `invalidClaim` when a claim is present with the wrong type,
/// and return nil when it is absent, so a check can tell the two apart.
public struct JWTClaims: Sendable, Hashable {
    /// Every claim, as sent.
    public let fields: JSONObject

    public init(_ fields: JSONObject) {
        self.fields = fields
    }

    public subscript(name: String) -> JSONValue? { fields[name] }

    public func issuer() throws(JWTError) -> String? { try string("iss") }
    public func subject() throws(JWTError) -> String? { try string("sub") }
    public func tokenID() throws(JWTError) -> String? { try string("jti") }

    /// `exp` in seconds since the epoch.
    public func expiresAt() throws(JWTError) -> Int64? { try numericDate("exp") }
    /// `nbf` in seconds since the epoch.
    public func notBefore() throws(JWTError) -> Int64? { try numericDate("nbf") }
    /// `iat` in seconds since the epoch.
    public func issuedAt() throws(JWTError) -> Int64? { try numericDate("iat") }

    /// `aud` as a list: RFC 7519 §4.1.3 allows one string or an array of strings.
    public func audience() throws(JWTError) -> [String]? {
        guard let value = fields["aud"] else { return nil }
        if let single = value.stringValue { return [single] }
        guard let array = value.arrayValue else {
            throw JWTError(.invalidClaim, "\"aud\" is \(value.typeName), not a string or an array of strings")
        }
        return try array.map { (element) throws(JWTError) -> String in
            guard let string = element.stringValue else {
                throw JWTError(.invalidClaim, "\"aud\" holds \(element.typeName), not only strings")
            }
            return string
        }
    }

    /// A string claim, or nil when absent.
    public func string(_ name: String) throws(JWTError) -> String? {
        guard let value = fields[name] else { return nil }
        guard let string = value.stringValue else {
            throw JWTError(.invalidClaim, "\"\(name)\" is \(value.typeName), not a string")
        }
        return string
    }

    /// A NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional;
    /// fractions are truncated, which only ever shortens a token's life by < 1 s.
    public func numericDate(_ name: String) throws(JWTError) -> Int64? {
        guard let value = fields[name] else { return nil }
        switch value {
        case .integer(let seconds):
            return seconds
        case .number(let seconds) where seconds.isFinite && abs(seconds) < 1e15:
            return Int64(seconds.rounded(.towardZero))
        default:
            throw JWTError(.invalidClaim, "\"\(name)\" is \(value.typeName), not a NumericDate (seconds since 1970)")
        }
    }
}
