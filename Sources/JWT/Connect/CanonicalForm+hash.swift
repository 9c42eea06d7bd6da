internal import COpenSSL

extension CanonicalForm {
    /// Whether `claimed` is the `qsh` of the request: the SHA-256 of its canonical
    /// bytes in lower-case hex, compared in constant time. Everything stays in
    /// stack buffers; no `CanonicalRequest` or `String` is made on the way.
    static func queryStringHash(
        _ claimed: String, matchesMethod method: String, rawPath: Substring,
        rawQuery: Substring, basePath: String
    ) throws(JWTError) -> Bool {
        try withUTF8(Substring(claimed)) { (claimed) throws(JWTError) -> Bool in
            try queryStringHash(
                claimed, matchesMethod: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)
        }
    }

    /// `queryStringHash(_:matchesMethod:…)` for a claim still in the token's bytes.
    static func queryStringHash(
        _ claimed: UnsafeBufferPointer<UInt8>, matchesMethod method: String, rawPath: Substring,
        rawQuery: Substring, basePath: String
    ) throws(JWTError) -> Bool {
        try withBytes(method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath) { canonical, _ in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32 + 64) { scratch in
                let digest = UnsafeMutableBufferPointer(rebasing: scratch[..<32])
                let hex = UnsafeMutableBufferPointer(rebasing: scratch[32...])
                sha256(canonical, into: digest)
                Hex.lowercase(UnsafeBufferPointer(digest), into: hex)
                return ConstantTime.equals(UnsafeRawBufferPointer(claimed), UnsafeRawBufferPointer(hex))
            }
        }
    }

    /// SHA-256 on a stack context (`linkgate_sha256` in Sources/COpenSSL/shim.h):
    /// libcrypto's hash without `EVP_Digest`'s per-call context setup, which cost
    /// more than hashing the short canonical request (docs/jwt.md, "The Connect
    /// request binding").
    private static func sha256(_ bytes: UnsafeBufferPointer<UInt8>, into digest: UnsafeMutableBufferPointer<UInt8>) {
        precondition(digest.count >= 32, "SHA-256 output buffer too small")
        let ok = linkgate_sha256(bytes.baseAddress, bytes.count, digest.baseAddress)
        precondition(ok == 1, "OpenSSL failed to compute SHA256")
    }
}
