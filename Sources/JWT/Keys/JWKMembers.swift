/// Typed access to a JWK's members, with errors that name the member but never its value.
struct JWKMembers {
    let object: JSONObject

    init(_ jwk: JSONValue) throws(JWTError) {
        guard let object = jwk.objectValue else {
            throw JWTError(.invalidKey, "a JWK must be a JSON object, found \(jwk.typeName)")
        }
        self.object = object
    }

    /// A string member, or nil when absent.
    func string(_ name: String) throws(JWTError) -> String? {
        guard let value = object[name] else { return nil }
        guard let string = value.stringValue else {
            throw JWTError(.invalidKey, "JWK member \"\(name)\" must be a string, found \(value.typeName)")
        }
        return string
    }

    func requiredString(_ name: String, for kty: String) throws(JWTError) -> String {
        guard let string = try string(name) else {
            throw JWTError(.invalidKey, "a \(kty) JWK needs the member \"\(name)\"")
        }
        return string
    }

    /// A base64url member (RFC 7518 §6: Base64urlUInt and octet values), or nil when absent.
    func bytes(_ name: String) throws(JWTError) -> [UInt8]? {
        guard let text = try string(name) else { return nil }
        do {
            return try Base64URL.decode(text)
        } catch {
            throw JWTError(.invalidKey, "JWK member \"\(name)\" is not unpadded base64url")
        }
    }

    func requiredBytes(_ name: String, for kty: String) throws(JWTError) -> [UInt8] {
        guard let bytes = try bytes(name) else {
            throw JWTError(.invalidKey, "a \(kty) JWK needs the member \"\(name)\"")
        }
        guard !bytes.isEmpty else {
            throw JWTError(.invalidKey, "JWK member \"\(name)\" is empty")
        }
        return bytes
    }

    /// A fixed-width member: RFC 7518 §6.2.1.2 and §6.2.2.1 require EC coordinates
    /// and private scalars at the full size of the curve, and RFC 8037 §2 fixes
    /// Ed25519 keys at 32 bytes.
    func fixedBytes(_ name: String, count: Int, for kty: String) throws(JWTError) -> [UInt8] {
        let bytes = try requiredBytes(name, for: kty)
        guard bytes.count == count else {
            throw JWTError(.invalidKey, "JWK member \"\(name)\" must be \(count) bytes, found \(bytes.count)")
        }
        return bytes
    }
}
