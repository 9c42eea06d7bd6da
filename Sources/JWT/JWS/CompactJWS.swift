#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    @inlinable
    public init(parsing token: some StringProtocol, limits: TokenLimits = .standard) throws(JWTError) {
        // Inlined so a caller's concrete string type meets the non-generic parser below.
        try self.init(parsingSubstring: Substring(token), limits: limits)
    }

    @usableFromInline
    init(parsingSubstring token: Substring, limits: TokenLimits) throws(JWTError) {
        let count = token.utf8.count
        guard count <= limits.maxTokenBytes else {
            throw JWTError(.tokenTooLarge, "the token is \(count) bytes, over the limit of \(limits.maxTokenBytes)")
        }
        // One pass over contiguous bytes; a bridged or foreign string is copied once.
        let parts = try token.utf8.withContiguousBytes { (bytes) throws(JWTError) in
            try Self.parse(bytes, limits: limits)
        }
        header = parts.header
        claims = parts.claims
        signature = parts.signature
        signingInput = token[token.startIndex..<token.utf8.index(token.startIndex, offsetBy: parts.signingInputCount)]
    }

    /// What `parse` finds; `signingInput` is made from the caller's string.
    private struct Parts {
        var header: JWSHeader
        var claims: JSONObject
        var signature: [UInt8]
        var signingInputCount: Int
    }

    private static func parse(_ token: UnsafeBufferPointer<UInt8>, limits: TokenLimits) throws(JWTError) -> Parts {
        let (firstDot, secondDot) = try dots(in: token)
        let headerPart = UnsafeBufferPointer(rebasing: token[..<firstDot])
        let payloadPart = UnsafeBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])
        let signaturePart = UnsafeBufferPointer(rebasing: token[(secondDot + 1)...])
        try checkSegmentSizes(header: headerPart.count, signature: signaturePart.count, limits: limits)

        let header = try JWSHeaderCache.shared.header(for: headerPart) { () throws(JWTError) in
            try JWSHeader(segment: headerPart)
        }
        let claims = try decodeObject(payloadPart, segment: "payload", notObject: .claimsNotObject)
        // Checked after the header, so an unsigned `alg: none` token is named as such.
        let signature = try Base64URL.decode(buffer: signaturePart)
        guard !signature.isEmpty else {
            throw JWTError(.emptySignature, "the token has no signature")
        }
        return Parts(header: header, claims: claims, signature: signature, signingInputCount: secondDot)
    }

    /// The offsets of the two dots of a three-segment token; any other count is refused.
    private static func dots(in token: UnsafeBufferPointer<UInt8>) throws(JWTError) -> (Int, Int) {
        guard let first = dot(in: token, from: 0), let second = dot(in: token, from: first + 1) else {
            let count = token.reduce(0) { $0 + ($1 == UInt8(ascii: ".") ? 1 : 0) }
            throw JWTError(
                .malformedToken, "a compact JWS has three segments separated by two dots; this token has \(count + 1)")
        }
        if dot(in: token, from: second + 1) != nil {
            throw JWTError(
                .malformedToken, "a compact JWS has three segments separated by two dots; this token has more")
        }
        return (first, second)
    }

    /// The next `.` at or after `start`, found with `memchr` (vectorised by libc).
    private static func dot(in token: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < token.count, let base = token.baseAddress,
            let found = memchr(base + start, Int32(UInt8(ascii: ".")), token.count - start)
        else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    private static func checkSegmentSizes(header: Int, signature: Int, limits: TokenLimits) throws(JWTError) {
        if header > limits.maxHeaderBytes {
            throw JWTError(
                .segmentTooLarge, "the header segment is \(header) bytes, over the limit of \(limits.maxHeaderBytes)")
        }
        if signature > limits.maxSignatureBytes {
            throw JWTError(
                .segmentTooLarge,
                "the signature segment is \(signature) bytes, over the limit of \(limits.maxSignatureBytes)")
        }
    }

    /// Decodes a segment into stack memory and parses the JSON there, with no intermediate array.
    static func decodeObject(
        _ segment: UnsafeBufferPointer<UInt8>, segment name: String, notObject: JWTError.Code
    ) throws(JWTError) -> JSONObject {
        let capacity = Base64URL.decodedCount(segment.count) + 1
        let value = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) {
            (buffer) throws(JWTError) -> JSONValue in
            let count: Int
            do throws(JWTError) {
                count = try Base64URL.decode(segment, into: buffer)
            } catch {
                throw JWTError(error.code, "in the \(name): \(error.reason)")
            }
            let json = UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)
            // The common flat object is read directly; anything else, and every refusal, is jansson's.
            if count <= JSONLimits.token.maxBytes, let object = JSONObject.parseFlat(json) {
                return .object(object)
            }
            do throws(JWTError) {
                return try JSONValue.parse(buffer: json, limits: .token)
            } catch {
                throw JWTError(error.code, "in the \(name): \(error.reason)")
            }
        }
        guard case .object(let object) = value else {
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
