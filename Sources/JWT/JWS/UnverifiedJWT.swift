/// A token's header and claims decoded without any check of signature,
/// algorithm or claims: for people debugging tokens, never for decisions.
public struct UnverifiedJWT: Sendable {
    public let header: JSONValue
    public let claims: JSONValue

    /// Decodes the first two segments of a compact token within `limits`.
    public init(decoding token: String, limits: TokenLimits = .standard) throws(JWTError) {
        guard token.utf8.count <= limits.maxTokenBytes else {
            throw JWTError(
                .tokenTooLarge, "the token is \(token.utf8.count) bytes, over the limit of \(limits.maxTokenBytes)")
        }
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3 else {
            throw JWTError(
                .malformedToken,
                "a compact JWS has three segments separated by two dots; this token has \(segments.count)")
        }
        header = try Self.decode(segments[0], name: "header")
        claims = try Self.decode(segments[1], name: "payload")
    }

    private static func decode(_ segment: Substring, name: String) throws(JWTError) -> JSONValue {
        do {
            return try JSONValue.parse(Base64URL.decode(segment), limits: .token)
        } catch {
            throw JWTError(error.code, "in the \(name): \(error.reason)")
        }
    }
}
