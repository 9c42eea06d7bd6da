internal import COpenSSL

/// Comparison of secrets and MACs whose time does not depend on where the
/// inputs differ (`CRYPTO_memcmp`), so an attacker cannot learn a MAC byte by byte.
public enum ConstantTime {
    /// Whether `lhs` and `rhs` hold the same bytes. Different lengths are unequal;
    /// the length itself is not secret.
    public static func equals<L: Collection, R: Collection>(_ lhs: L, _ rhs: R) -> Bool
    where L.Element == UInt8, R.Element == UInt8 {
        let left = Array(lhs)
        let right = Array(rhs)
        guard left.count == right.count else { return false }
        if left.isEmpty { return true }
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }

    /// Whether two strings hold the same UTF-8 bytes, in constant time.
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(lhs.utf8, rhs.utf8)
    }

    /// Whether two buffers hold the same bytes, in constant time, without copying:
    /// the form the HMAC verification path uses.
    ///
    /// OpenSSL's x86-64 `CRYPTO_memcmp` compares exactly 16 bytes (an AEAD tag)
    /// with two 8-byte loads and any other length a byte at a time, so a MAC
    /// (32 bytes for HS256) or a `qsh` (64 hex digits) is compared 16 bytes a
    /// call, every call made and their results ORed: the calls depend on the
    /// length alone, never on where the bytes differ (docs/jwt.md, "The Connect
    /// request binding").
    static func equals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.isEmpty }
        var difference: Int32 = 0
        var offset = 0
        while lhs.count - offset >= 16 {
            difference |= CRYPTO_memcmp(left + offset, right + offset, 16)
            offset += 16
        }
        if offset < lhs.count {
            difference |= CRYPTO_memcmp(left + offset, right + offset, lhs.count - offset)
        }
        return difference == 0
    }
}
