import JWT

/// Proof Key for Code Exchange (RFC 7636), S256 only: `plain` gives no protection
/// against an intercepted authorization request, so it is refused.
public enum PKCE {
    /// RFC 7636 §4.1: 43–128 characters of `A-Z a-z 0-9 - . _ ~`.
    public static func isWellFormed(_ value: String) -> Bool {
        let bytes = value.utf8
        return (43...128).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    true
                default: false
                }
            }
    }

    /// `BASE64URL(SHA256(verifier))`, the S256 challenge of a verifier.
    public static func challenge(of verifier: String) -> String {
        Base64URL.encode(Digest.sha256.hash(Array(verifier.utf8)))
    }

    /// Whether `verifier` answers `challenge`, compared in constant time.
    public static func verifies(_ verifier: String, challenge: String) -> Bool {
        isWellFormed(verifier) && ConstantTime.equals(Self.challenge(of: verifier), challenge)
    }
}
