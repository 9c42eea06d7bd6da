import JWT

/// A refresh token's form (docs/grants.md, "Refresh tokens"): the id of the family it
/// belongs to, a dot, and 32 random bytes, base64url. The store finds the family by the
/// id and keeps the SHA-256 of the family's live token and of the one before it in the
/// family's row, so a rotation writes no row of its own. The id is not a secret (the
/// random part is) but is only ever handed out inside the family's refresh tokens.
/// Tokens issued before schema version 8 are the random part alone, found through
/// their `refresh_tokens` row.
public enum RefreshToken {
    /// A new refresh token of `family`.
    public static func make(family: String) -> String {
        family + "." + SecureRandom.identifier(bytes: 32)
    }

    /// The family `token` names, or nil when it has the earlier form (no dot) or an
    /// empty part; the id is at most 64 bytes (the gateway's are 28: `TimeOrderedID`; 22 before).
    static func family(of token: String) -> String? {
        let utf8 = token.utf8
        guard let dot = utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let length = utf8.distance(from: utf8.startIndex, to: dot)
        guard length > 0, length <= 64, utf8.index(after: dot) != utf8.endIndex else { return nil }
        return String(token[..<dot])
    }
}
