/// A compact JWS (RFC 7515 §7.1) split and decoded, but not yet trusted.
///
/// Parsing checks shape only: three segments within `TokenLimits`, strict
/// base64url, JSON objects without duplicate keys, and a header that names a
/// supported algorithm and no critical extension. Nothing here says the token is
/// genuine: that is `JWTVerifier`'s job.
public struct CompactJWS: Sendable {
    /// The protected header.
    public let header: JWSHeader
    /// The claim set (the payload, which for a JWT is a JSON object).
    public let claims: JSONObject
    /// `BASE64URL(header) "." BASE64URL(payload)`: the bytes the signature covers.
    public let signingInput: Substring
    /// The decoded signature.
    public let signature: [UInt8]

    /// Splits, size-checks and decodes a compact token.
    /// - Throws: `JWTError` with a code for each way the token is misshapen.
    public init(parsing token: some StringProtocol, limits: TokenLimits = .standard) throws {
        let token = Substring(token)
        let utf8 = token.utf8
        guard utf8.count <= limits.maxTokenBytes else {
            throw JWTError(.tokenTooLarge, "the token is \(utf8.count) bytes, over the limit of \(limits.maxTokenBytes)")
        }
        let (firstDot, secondDot) = try Self.dots(in: token)
        let headerPart = token[token.startIndex..<firstDot]
        let payloadPart = token[token.index(after: firstDot)..<secondDot]
        let signaturePart = token[token.index(after: secondDot)...]
        try Self.checkSegmentSizes(header: headerPart, signature: signaturePart, limits: limits)

        header = try JWSHeader(Self.decodeObject(headerPart, segment: "header", notObject: .headerNotObject))
        claims = try Self.decodeObject(payloadPart, segment: "payload", notObject: .claimsNotObject)
        // Checked after the header, so an unsigned `alg: none` token is named as such.
        signature = try Base64URL.decode(signaturePart)
        guard !signature.isEmpty else {
            throw JWTError(.emptySignature, "the token has no signature")
        }
        signingInput = token[token.startIndex..<secondDot]
    }

    /// The two dots of a three-segment token; any other count is refused.
    private static func dots(in token: Substring) throws -> (Substring.Index, Substring.Index) {
        var found: [Substring.Index] = []
        var index = token.startIndex
        let utf8 = token.utf8
        while index < token.endIndex {
            if utf8[index] == UInt8(ascii: ".") {
                guard found.count < 2 else {
                    throw JWTError(.malformedToken, "a compact JWS has three segments separated by two dots; this token has more")
                }
                found.append(index)
            }
            index = utf8.index(after: index)
        }
        guard found.count == 2 else {
            throw JWTError(.malformedToken, "a compact JWS has three segments separated by two dots; this token has \(found.count + 1)")
        }
        return (found[0], found[1])
    }

    private static func checkSegmentSizes(header: Substring, signature: Substring, limits: TokenLimits) throws {
        if header.utf8.count > limits.maxHeaderBytes {
            throw JWTError(.segmentTooLarge, "the header segment is \(header.utf8.count) bytes, over the limit of \(limits.maxHeaderBytes)")
        }
        if signature.utf8.count > limits.maxSignatureBytes {
            throw JWTError(.segmentTooLarge, "the signature segment is \(signature.utf8.count) bytes, over the limit of \(limits.maxSignatureBytes)")
        }
    }

    private static func decodeObject(_ segment: Substring, segment name: String, notObject: JWTError.Code) throws -> JSONObject {
        let bytes: [UInt8]
        do {
            bytes = try Base64URL.decode(segment)
        } catch let error as JWTError {
            throw JWTError(error.code, "in the \(name): \(error.reason)")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes, limits: .token)
        } catch let error as JWTError {
            throw JWTError(error.code, "in the \(name): \(error.reason)")
        }
        guard let object = value.objectValue else {
            throw JWTError(notObject, "the \(name) is \(value.typeName), not a JSON object")
        }
        return object
    }
}

extension CompactJWS {
    /// Whether `key` made this token's signature. The caller has checked that
    /// the key's algorithm is the header's.
    public func isSigned(by key: JWTKey) -> Bool {
        let fast = signingInput.utf8.withContiguousStorageIfAvailable { input in
            key.verify(signature: signature, signingInput: UnsafeRawBufferPointer(input))
        }
        return fast ?? key.verify(signature: signature, signingInput: Array(signingInput.utf8))
    }
}
