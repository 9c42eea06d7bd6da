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
        let outcome = token.utf8.withContiguousStorageIfAvailable { bytes in
            commonCase(
                bytes, token: token, method: method, rawPath: rawPath, rawQuery: rawQuery,
                allowContextQSH: allowContextQSH, now: now)
        }
        switch outcome ?? .notCommon {
        case .accepted(let claims): return claims
        case .forged: throw JWTError(.invalidSignature, "the signature does not match the token")
        case .notCommon: return nil
        }
    }

    /// What the one pass makes of a token; plain values, so no error or `Result`
    /// crosses the closures it runs in.
    private enum Outcome {
        case accepted(ConnectClaims)
        /// Every check before the signature passed, and the signature does not match.
        case forged
        /// Not the common case, or refused: `verifyInFull` decides, with its own words.
        case notCommon
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

    private func commonCase(
        _ bytes: UnsafeBufferPointer<UInt8>, token: Substring, method: String, rawPath: Substring,
        rawQuery: Substring, allowContextQSH: Bool, now: Int64
    ) -> Outcome {
        // Shape and sizes, as `CompactJWS` checks them.
        guard bytes.count <= limits.maxTokenBytes, let base = bytes.baseAddress,
            let firstDot = Self.dot(in: bytes, from: 0), let secondDot = Self.dot(in: bytes, from: firstDot + 1),
            Self.dot(in: bytes, from: secondDot + 1) == nil
        else { return .notCommon }
        let headerPart = UnsafeBufferPointer(start: base, count: firstDot)
        let payloadPart = UnsafeBufferPointer(start: base + firstDot + 1, count: secondDot - firstDot - 1)
        let signaturePart = UnsafeBufferPointer(start: base + secondDot + 1, count: bytes.count - secondDot - 1)
        // An HMAC is at most 64 bytes (HS512), 86 characters.
        guard headerPart.count <= limits.maxHeaderBytes, signaturePart.count <= min(limits.maxSignatureBytes, 86),
            let header = try? JWSHeaderCache.shared.keySelector(
                for: headerPart, parse: { () throws(JWTError) in try JWSHeader(segment: headerPart) })
        else { return .notCommon }

        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Base64URL.decodedCount(payloadPart.count) + 64) {
            (scratch) -> Outcome in
            let payloadBuffer = UnsafeMutableBufferPointer(rebasing: scratch[..<(scratch.count - 64)])
            let macBuffer = UnsafeMutableBufferPointer(rebasing: scratch[(scratch.count - 64)...])
            guard let payloadCount = try? Base64URL.decode(payloadPart, into: payloadBuffer),
                payloadCount <= JSONLimits.token.maxBytes,
                let macCount = try? Base64URL.decode(signaturePart, into: macBuffer), macCount > 0
            else { return .notCommon }
            var needed = Needed()
            let flat = FlatJSON.scan(UnsafeBufferPointer(rebasing: payloadBuffer[..<payloadCount])) { key, value in
                Self.note(key, value, in: &needed)
            }
            guard flat, !needed.unusual, let issuerBytes = needed.issuer, let qsh = needed.qsh,
                let issuedAt = needed.issuedAt, let expiresAt = needed.expiresAt
            else { return .notCommon }

            // The key, pinned to the header's algorithm, and the signature.
            let (issuer, isRemembered) = IssuerNames.name(issuerBytes)
            guard let key = lookup(issuer), key.algorithm == header.algorithm,
                header.keyID == nil || key.keyID == header.keyID, case .secret(let hmac) = key.material
            else { return .notCommon }
            if !isRemembered { IssuerNames.remember(issuer) }
            let signingInput = UnsafeRawBufferPointer(start: base, count: secondDot)
            let mac = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: macBuffer[..<macCount]))
            guard hmac.isValid(mac: mac, for: signingInput) else { return .forged }

            // `ClaimRules` with `exp` and `iat` required and `maxLifetime`.
            if now > expiresAt.addingClamped(clockSkew) { return .notCommon }
            if let notBefore = needed.notBefore, now.addingClamped(clockSkew) < notBefore { return .notCommon }
            if now.addingClamped(clockSkew) < issuedAt { return .notCommon }
            if expiresAt.subtractingClamped(issuedAt) > maxLifetime { return .notCommon }

            // The request binding.
            let isContext = FlatJSON.equal(qsh, "context-qsh")
            if isContext {
                guard allowContextQSH else { return .notCommon }
            } else {
                guard
                    (try? CanonicalForm.queryStringHash(
                        qsh, matchesMethod: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)) == true
                else { return .notCommon }
            }
            // Offsets, not a `Substring`: slicing `token` by UTF-8 offsets would make
            // the standard library check scalar alignment, for claims rarely read.
            return .accepted(
                ConnectClaims(
                    issuer: issuer, token: token, payload: (firstDot + 1)..<secondDot, isContextToken: isContext))
        }
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
