#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ConnectJWTVerifier {
    /// The common case of `verify`, in one pass over the token's bytes with no
    /// `CompactJWS`, `JSONObject` or signature array: a header already in the
    /// header cache (or parsed into it), a flat claim set (`FlatJSON`), an HMAC
    /// key, integer times (docs/jwt.md, "The Connect request binding").
    ///
    /// It makes exactly the checks of `verifyInFull`, in the same order. It
    /// returns nil, rather than throwing, for every token it does not accept
    /// except one whose signature does not match: `verifyInFull` then refuses
    /// that token with its own code and message. A forged signature is refused
    /// here, with `verifyInFull`'s words, since every check before it has passed.
    func verifyCommonCase(
        _ token: Substring, method: String, rawPath: Substring, rawQuery: Substring,
        allowContextQSH: Bool, now: Int64
    ) throws(JWTError) -> ConnectClaims? {
        let result = token.utf8.withContiguousStorageIfAvailable { bytes in
            Result { () throws(JWTError) -> ConnectClaims? in
                try verifyCommonCase(
                    bytes, token: token, method: method, rawPath: rawPath, rawQuery: rawQuery,
                    allowContextQSH: allowContextQSH, now: now)
            }
        }
        return try result?.get() ?? nil
    }

    /// The claims the Connect check reads, as found in a flat claim set.
    private struct Needed {
        var issuer: UnsafeBufferPointer<UInt8>?
        var qsh: UnsafeBufferPointer<UInt8>?
        var issuedAt: Int64?
        var expiresAt: Int64?
        var notBefore: Int64?
        /// One of them is present with a type `verifyInFull` refuses or reads otherwise.
        var unusual = false
    }

    private func verifyCommonCase(
        _ bytes: UnsafeBufferPointer<UInt8>, token: Substring, method: String, rawPath: Substring,
        rawQuery: Substring, allowContextQSH: Bool, now: Int64
    ) throws(JWTError) -> ConnectClaims? {
        // Shape and sizes, as `CompactJWS` checks them.
        guard bytes.count <= limits.maxTokenBytes, let base = bytes.baseAddress,
            let firstDot = Self.dot(in: bytes, from: 0), let secondDot = Self.dot(in: bytes, from: firstDot + 1),
            Self.dot(in: bytes, from: secondDot + 1) == nil
        else { return nil }
        let headerPart = UnsafeBufferPointer(start: base, count: firstDot)
        let payloadPart = UnsafeBufferPointer(start: base + firstDot + 1, count: secondDot - firstDot - 1)
        let signaturePart = UnsafeBufferPointer(start: base + secondDot + 1, count: bytes.count - secondDot - 1)
        // An HMAC is at most 64 bytes (HS512), 86 characters.
        guard headerPart.count <= limits.maxHeaderBytes, signaturePart.count <= min(limits.maxSignatureBytes, 86)
        else { return nil }
        guard
            let header = try? JWSHeaderCache.shared.header(
                for: headerPart,
                parse: { () throws(JWTError) in
                    try JWSHeader(CompactJWS.decodeObject(headerPart, segment: "header", notObject: .headerNotObject))
                })
        else { return nil }

        return try withUnsafeTemporaryAllocation(
            of: UInt8.self, capacity: Base64URL.decodedCount(payloadPart.count) + 64
        ) {
            (scratch) -> Result<ConnectClaims?, JWTError> in
            let payloadBuffer = UnsafeMutableBufferPointer(rebasing: scratch[..<(scratch.count - 64)])
            let macBuffer = UnsafeMutableBufferPointer(rebasing: scratch[(scratch.count - 64)...])
            guard let payloadCount = try? Base64URL.decode(payloadPart, into: payloadBuffer),
                payloadCount <= JSONLimits.token.maxBytes,
                let macCount = try? Base64URL.decode(signaturePart, into: macBuffer), macCount > 0
            else { return .success(nil) }
            var needed = Needed()
            let flat = FlatJSON.scan(UnsafeBufferPointer(rebasing: payloadBuffer[..<payloadCount])) { key, value in
                Self.note(key, value, in: &needed)
            }
            guard flat, !needed.unusual, let issuerBytes = needed.issuer, let qsh = needed.qsh,
                let issuedAt = needed.issuedAt, let expiresAt = needed.expiresAt
            else { return .success(nil) }

            // The key, pinned to the header's algorithm, and the signature.
            let issuer = String(decoding: issuerBytes, as: UTF8.self)
            guard let key = lookup(issuer), key.algorithm == header.algorithm,
                header.keyID == nil || key.keyID == header.keyID, case .secret(let hmac) = key.material
            else { return .success(nil) }
            let signingInput = UnsafeRawBufferPointer(start: base, count: secondDot)
            guard
                hmac.isValid(
                    mac: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: macBuffer[..<macCount])),
                    for: signingInput)
            else {
                return .failure(JWTError(.invalidSignature, "the signature does not match the token"))
            }

            // `ClaimRules` with `exp` and `iat` required and `maxLifetime`.
            if now > expiresAt.addingClamped(clockSkew) { return .success(nil) }
            if let notBefore = needed.notBefore, now.addingClamped(clockSkew) < notBefore { return .success(nil) }
            if now.addingClamped(clockSkew) < issuedAt { return .success(nil) }
            if expiresAt.subtractingClamped(issuedAt) > maxLifetime { return .success(nil) }

            // The request binding.
            let isContext = FlatJSON.equal(qsh, "context-qsh")
            if isContext {
                guard allowContextQSH else { return .success(nil) }
            } else {
                guard
                    (try? CanonicalForm.queryStringHash(
                        qsh, matchesMethod: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)) == true
                else { return .success(nil) }
            }
            let payload = token.utf8.index(token.startIndex, offsetBy: firstDot + 1)
            let payloadEnd = token.utf8.index(token.startIndex, offsetBy: secondDot)
            return .success(
                ConnectClaims(issuer: issuer, payload: token[payload..<payloadEnd], isContextToken: isContext))
        }.get()
    }

    @inline(__always)
    private static func note(_ key: UnsafeBufferPointer<UInt8>, _ value: FlatJSON.Scalar, in needed: inout Needed) {
        guard key.count == 3 else { return }
        if FlatJSON.equal(key, "iss") {
            if case .string(let text) = value { needed.issuer = text } else { needed.unusual = true }
        } else if FlatJSON.equal(key, "qsh") {
            if case .string(let text) = value { needed.qsh = text } else { needed.unusual = true }
        } else if FlatJSON.equal(key, "iat") {
            if case .integer(let seconds) = value { needed.issuedAt = seconds } else { needed.unusual = true }
        } else if FlatJSON.equal(key, "exp") {
            if case .integer(let seconds) = value { needed.expiresAt = seconds } else { needed.unusual = true }
        } else if FlatJSON.equal(key, "nbf") {
            if case .integer(let seconds) = value { needed.notBefore = seconds } else { needed.unusual = true }
        }
    }

    /// The next `.` at or after `start`, found with `memchr`.
    @inline(__always)
    private static func dot(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, Int32(UInt8(ascii: ".")), bytes.count - start)
        else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }
}
