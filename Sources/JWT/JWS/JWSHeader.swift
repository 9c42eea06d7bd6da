/// A JOSE header (RFC 7515 §4) whose algorithm Linkgate supports.
///
/// `none` in any spelling is refused here, before a key is even looked up. A
/// `crit` header is refused too: Linkgate understands no extension, and RFC 7515
/// §4.1.11 says a token whose critical extension is not understood is invalid.
/// `jwk`, `jku`, `x5u` and `x5c` are never used to choose a key.
public struct JWSHeader: Sendable {
    /// The algorithm the token claims. The verifier checks it equals the key's.
    public let algorithm: JWSAlgorithm
    /// `kid`, when present.
    public let keyID: String?
    /// `typ`, when present.
    public let type: String?
    /// Every member, as sent.
    public let fields: JSONObject

    init(_ fields: JSONObject) throws(JWTError) {
        guard let algValue = fields["alg"] else {
            throw JWTError(.missingAlgorithm, "the header has no \"alg\"")
        }
        guard let alg = algValue.stringValue else {
            throw JWTError(.invalidHeader, "\"alg\" is \(algValue.typeName), not a string")
        }
        if alg.lowercased() == "none" {
            throw JWTError(.algorithmNone, "unsigned tokens (\"alg\": \"\(alg)\") are never accepted")
        }
        guard let algorithm = JWSAlgorithm(rawValue: alg) else {
            throw JWTError(.unsupportedAlgorithm, "\"alg\": \"\(Self.clip(alg))\" is not a supported algorithm")
        }
        if fields["crit"] != nil {
            throw JWTError(
                .unsupportedCriticalHeader, "the header lists critical extensions (\"crit\"), and none is supported")
        }
        self.algorithm = algorithm
        self.keyID = try Self.optionalString(fields, "kid")
        self.type = try Self.optionalString(fields, "typ")
        self.fields = fields
    }

    /// The header in a token's base64url header segment: what every parse of a
    /// header segment runs, the header cache's pinned entries included.
    init(segment: UnsafeBufferPointer<UInt8>) throws(JWTError) {
        try self.init(CompactJWS.decodeObject(segment, segment: "header", notObject: .headerNotObject))
    }

    private static func optionalString(_ fields: JSONObject, _ name: String) throws(JWTError) -> String? {
        guard let value = fields[name] else { return nil }
        guard let string = value.stringValue else {
            throw JWTError(.invalidHeader, "\"\(name)\" is \(value.typeName), not a string")
        }
        return string
    }

    /// Echo at most a short prefix of attacker-chosen text in messages.
    static func clip(_ text: String) -> String {
        text.count <= 32 ? text : String(text.prefix(32)) + "…"
    }
}
