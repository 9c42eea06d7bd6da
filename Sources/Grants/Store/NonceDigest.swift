import JWT

/// The SHA-256 of an OAuth 1.0a nonce's key (consumer, token, timestamp and nonce), the
/// form in which ledgers, the nonce log's view and the store keep a spent nonce: the key
/// holds the access token, so only its digest is kept (docs/links.md, "Nonces").
///
/// Held as four words in the digest's byte order, so a lookup among a window's worth of
/// nonces hashes one word and compares 32 bytes in place; the store's rows hold its
/// lowercase hex (`hex`), and digests order as their hex does.
public struct NonceDigest: Hashable, Comparable, Sendable {
    let first: UInt64
    let second: UInt64
    let third: UInt64
    let fourth: UInt64

    /// The digest of `key`'s UTF-8 bytes.
    public init(key: String) {
        var key = key
        let digest = key.withUTF8 { Digest.sha256.hash(UnsafeRawBufferPointer($0)) }
        self.init(bytes: digest)
    }

    /// The digest written as 64 lowercase hex digits, as the store keeps it; nil for anything else.
    public init?(hex: String) {
        var hex = hex
        let bytes: [UInt8]? = hex.withUTF8 { text in
            guard text.count == 64 else { return nil }
            var bytes = [UInt8](repeating: 0, count: 32)
            for index in 0..<32 {
                guard let high = Self.nibble(text[2 * index]), let low = Self.nibble(text[2 * index + 1]) else {
                    return nil
                }
                bytes[index] = high << 4 | low
            }
            return bytes
        }
        guard let bytes else { return nil }
        self.init(bytes: bytes)
    }

    private init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        func word(_ index: Int) -> UInt64 {
            bytes[index * 8..<index * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) }
        }
        first = word(0)
        second = word(1)
        third = word(2)
        fourth = word(3)
    }

    /// The lowercase hex the store keeps.
    public var hex: String {
        withUnsafeBytes(of: (first.bigEndian, second.bigEndian, third.bigEndian, fourth.bigEndian)) {
            Hex.lowercase(Array($0))
        }
    }

    /// One word is enough: a digest's words are uniformly spread, and `Hasher` is seeded per process.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(first)
    }

    public static func < (lhs: NonceDigest, rhs: NonceDigest) -> Bool {
        (lhs.first, lhs.second, lhs.third, lhs.fourth) < (rhs.first, rhs.second, rhs.third, rhs.fourth)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
