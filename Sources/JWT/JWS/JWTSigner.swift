/// Makes compact JWTs with one key.
public struct JWTSigner: Sendable {
    public let key: JWTKey

    public init(key: JWTKey) {
        self.key = key
    }

    /// Signs `claims` under a header of `alg` (the key's), `typ` and, when the
    /// key has one, `kid`. Extra header members may be added; they cannot
    /// override those three.
    public func sign(
        _ claims: JSONObject, type: String? = "JWT", extraHeader: JSONObject = JSONObject()
    ) throws(JWTError) -> String {
        var header = JSONObject()
        header["alg"] = .string(key.algorithm.rawValue)
        if let type { header["typ"] = .string(type) }
        if let keyID = key.keyID { header["kid"] = .string(keyID) }
        for (name, value) in extraHeader where header[name] == nil {
            header[name] = value
        }
        let signingInput =
            Base64URL.encode(JSONValue.object(header).serializedBytes())
            + "." + Base64URL.encode(JSONValue.object(claims).serializedBytes())
        let signature = try key.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
