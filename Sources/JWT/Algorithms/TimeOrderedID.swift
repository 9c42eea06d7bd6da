/// Row keys whose text sorts by the time they were made: the milliseconds since 1970
/// as 12 lowercase hex digits, then 12 random bytes (96 bits) as base64url, 28
/// characters in all, none of them a dot.
///
/// A grant family's id and an access token's `jti` key B-tree indexes that every code
/// exchange and rotation writes to. Random keys land each insert on a random leaf page
/// of each index, which that transaction must write to the log and a checkpoint must
/// copy again; keys made in time order land on the newest leaf, which transactions
/// close together share (docs/grants.md, "Transactions"). Neither id is a secret: a
/// family's id is the visible part of its refresh tokens, and a `jti` is in the signed
/// token. The random part keeps ids made in the same millisecond apart.
public enum TimeOrderedID {
    static let randomBytes = 12

    /// A new id; `milliseconds` (since 1970; the clock's now by default) is the time it sorts by.
    public static func make(milliseconds: Int64 = UnixTime.nowMilliseconds()) -> String {
        hexTime(milliseconds) + Base64URL.encode(SecureRandom.bytes(randomBytes))
    }

    /// `milliseconds` as 12 hex digits (its low 48 bits, big-endian), so that text order is
    /// time order (until the year 10889).
    static func hexTime(_ milliseconds: Int64) -> String {
        let value = UInt64(clamping: milliseconds)
        return Hex.lowercase((0..<6).map { UInt8(truncatingIfNeeded: value >> (8 * (5 - $0))) })
    }
}
