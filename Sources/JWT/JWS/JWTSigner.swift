/// Makes compact JWTs with one key.
///
/// The header for `type` (given at `init`, "JWT" unless said otherwise) is
/// serialised and encoded once, so a token costs its claims' JSON, its base64url
/// and one signature over the key's prepared context (`JWTKey.sign`).
public struct JWTSigner: Sendable {
    public let key: JWTKey
    /// The `typ` whose encoded header is kept.
    private let preparedType: String?
    /// `BASE64URL(header)` for `preparedType` without extra members.
    private let preparedHeader: String

    public init(key: JWTKey, type: String? = "JWT") {
        self.key = key
        self.preparedType = type
        self.preparedHeader = Self.encodedHeader(key: key, type: type, extraHeader: JSONObject())
    }

    /// Signs `claims` under a header of `alg` (the key's), `typ` and, when the
    /// key has one, `kid`. Extra header members may be added; they cannot
    /// override those three.
    public func sign(
        _ claims: JSONObject, type: String? = "JWT", extraHeader: JSONObject = JSONObject()
    ) throws(JWTError) -> String {
        let header =
            type == preparedType && extraHeader.isEmpty
            ? preparedHeader : Self.encodedHeader(key: key, type: type, extraHeader: extraHeader)
        let signingInput = header + "." + Base64URL.encode(JSONValue.object(claims).serializedBytes())
        let signature = try key.sign(signingInput.utf8)
        return signingInput + "." + Base64URL.encode(signature)
    }

    private static func encodedHeader(key: JWTKey, type: String?, extraHeader: JSONObject) -> String {
        var header = JSONObject()
        header["alg"] = .string(key.algorithm.rawValue)
        if let type { header["typ"] = .string(type) }
        if let keyID = key.keyID { header["kid"] = .string(keyID) }
        for (name, value) in extraHeader where header[name] == nil {
            header[name] = value
        }
        return Base64URL.encode(JSONValue.object(header).serializedBytes())
    }
}
