import JWT

/// How the store keeps a secret it must recognise but never give back (a
/// refresh token, an authorization code, a session id): the lowercase hex of
/// its SHA-256. The secrets are 128+ random bits, so no salt or stretching is needed.
public enum SecretDigest {
    public static func hex(_ secret: String) -> String {
        Hex.lowercase(Digest.sha256.hash(Array(secret.utf8)))
    }
}
