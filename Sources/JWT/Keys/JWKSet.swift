/// A JWKS document (RFC 7517 §5): keys looked up by kid.
///
/// Every key must carry an "alg", since a key is only ever used with the one
/// algorithm it is pinned to; kids must be unique, so a lookup is never ambiguous.
public struct JWKSet: Sendable {
    /// The keys, in document order.
    public let keys: [JWTKey]
    private let indexByKeyID: [String: Int]

    /// Reads a JWKS document, `{"keys": [ … ]}`.
    /// - Throws: `invalidKey` for a malformed document, a key without "alg", a
    ///   duplicate "kid", or any key `JWTKey.jwk` refuses (the message says which).
    public init(_ document: JSONValue) throws(JWTError) {
        guard let members = document["keys"]?.arrayValue else {
            throw JWTError(.invalidKey, "a JWKS must be an object whose \"keys\" member is an array")
        }
        var keys: [JWTKey] = []
        var indexByKeyID: [String: Int] = [:]
        for (position, member) in members.enumerated() {
            let key = try Self.key(member, at: position)
            if let kid = key.keyID {
                guard indexByKeyID[kid] == nil else {
                    throw JWTError(
                        .invalidKey, "JWKS keys #\(indexByKeyID[kid]!) and #\(position) share the kid \"\(kid)\"")
                }
                indexByKeyID[kid] = keys.count
            }
            keys.append(key)
        }
        self.keys = keys
        self.indexByKeyID = indexByKeyID
    }

    private static func key(_ member: JSONValue, at position: Int) throws(JWTError) -> JWTKey {
        guard member["alg"] != nil else {
            throw JWTError(
                .invalidKey, "JWKS key #\(position) has no \"alg\"; each key must be pinned to one algorithm")
        }
        do {
            return try JWTKey.jwk(member)
        } catch {
            throw JWTError(error.code, "JWKS key #\(position): \(error.reason)")
        }
    }

    /// The key whose "kid" is `kid`, if any.
    public func key(forKeyID kid: String) -> JWTKey? {
        indexByKeyID[kid].map { keys[$0] }
    }
}
