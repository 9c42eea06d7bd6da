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
    static func equals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.isEmpty }
        return CRYPTO_memcmp(left, right, lhs.count) == 0
    }
}
