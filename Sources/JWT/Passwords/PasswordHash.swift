internal import COpenSSL

/// Password hashes for `users.json` (`linkgate hash-password`), in a
/// self-describing text form that carries the algorithm, its cost and the salt:
///
/// - `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` — scrypt (RFC 7914) through OpenSSL, the default;
/// - `$pbkdf2-sha256$i=600000$<salt>$<hash>` — PBKDF2-HMAC-SHA256 (RFC 8018), accepted too.
///
/// Salt and hash are base64url without padding. Verification recomputes with the
/// stored parameters and compares in constant time.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: Sendable, Equatable {
        /// scrypt with N = 2^logN, block size r, parallelism p.
        case scrypt(logN: Int, r: Int, p: Int)
        /// PBKDF2-HMAC-SHA256 with this many iterations.
        case pbkdf2SHA256(iterations: Int)
    }

    public let scheme: Scheme
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// The default cost: scrypt N = 2^15, r = 8, p = 1 (32 MiB, OWASP's recommendation).
    public static let defaultScheme = Scheme.scrypt(logN: 15, r: 8, p: 1)

    /// Hashes `password` with a fresh 16-byte salt.
    /// - Throws: `JWTError.cryptoFailure` if OpenSSL cannot compute it.
    public static func make(_ password: String, scheme: Scheme = defaultScheme) throws(JWTError) -> PasswordHash {
        let salt = SecureRandom.bytes(16)
        return PasswordHash(
            scheme: scheme, salt: salt, hash: try derive(Array(password.utf8), salt: salt, scheme: scheme))
    }

    /// Parses the text form.
    /// - Throws: `JWTError.invalidKey` with what is wrong, for anything not of a form above.
    public init(parsing text: String) throws(JWTError) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty else {
            throw JWTError(
                .invalidKey,
                "a password hash looks like $scrypt$ln=15,r=8,p=1$SALT$HASH (made by linkgate hash-password)")
        }
        let parameters = Self.parameters(parts[2])
        switch parts[1] {
        case "scrypt":
            guard let logN = parameters["ln"], let r = parameters["r"], let p = parameters["p"], parameters.count == 3,
                (10...22).contains(logN), (1...32).contains(r), (1...16).contains(p)
            else { throw JWTError(.invalidKey, "a scrypt hash needs ln=10…22, r=1…32 and p=1…16") }
            scheme = .scrypt(logN: logN, r: r, p: p)
        case "pbkdf2-sha256":
            guard let iterations = parameters["i"], parameters.count == 1, (10_000...10_000_000).contains(iterations)
            else { throw JWTError(.invalidKey, "a pbkdf2-sha256 hash needs i=10000…10000000") }
            scheme = .pbkdf2SHA256(iterations: iterations)
        default:
            throw JWTError(
                .invalidKey, "the password hash scheme \"\(parts[1].prefix(20))\" is not scrypt or pbkdf2-sha256")
        }
        guard let salt = try? Base64URL.decode(parts[3]), salt.count >= 8,
            let hash = try? Base64URL.decode(parts[4]), hash.count >= 16
        else { throw JWTError(.invalidKey, "the password hash's salt or hash is not base64url of a sensible length") }
        self.salt = salt
        self.hash = hash
    }

    private init(scheme: Scheme, salt: [UInt8], hash: [UInt8]) {
        self.scheme = scheme
        self.salt = salt
        self.hash = hash
    }

    /// Whether `password` is the one hashed, compared in constant time.
    public func matches(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(Array(password.utf8), salt: salt, scheme: scheme, length: hash.count)
        else {
            return false
        }
        return ConstantTime.equals(candidate, hash)
    }

    public var description: String {
        let prefix =
            switch scheme {
            case .scrypt(let logN, let r, let p): "$scrypt$ln=\(logN),r=\(r),p=\(p)$"
            case .pbkdf2SHA256(let iterations): "$pbkdf2-sha256$i=\(iterations)$"
            }
        return prefix + Base64URL.encode(salt) + "$" + Base64URL.encode(hash)
    }

    static func derive(_ password: [UInt8], salt: [UInt8], scheme: Scheme, length: Int = 32) throws(JWTError) -> [UInt8]
    {
        var output = [UInt8](repeating: 0, count: length)
        let ok: Int32 = password.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { pass in
                switch scheme {
                case .scrypt(let logN, let r, let p):
                    // maxmem: N * r * 128 bytes plus slack; OpenSSL's default (32 MiB) is exactly too small for ln=15.
                    let memory = UInt64(1 << logN) * UInt64(r) * 128 * 2 + 1 << 20
                    return EVP_PBE_scrypt(
                        pass.baseAddress, pass.count, salt, salt.count, 1 << UInt64(logN), UInt64(r),
                        UInt64(p), memory, &output, output.count)
                case .pbkdf2SHA256(let iterations):
                    return PKCS5_PBKDF2_HMAC(
                        pass.baseAddress, Int32(pass.count), salt, Int32(salt.count), Int32(iterations),
                        EVP_sha256(), Int32(output.count), &output)
                }
            }
        }
        guard ok == 1 else {
            let name =
                switch scheme {
                case .scrypt: "scrypt"
                case .pbkdf2SHA256: "PBKDF2-HMAC-SHA256"
                }
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not compute the \(name) password hash")
        }
        return output
    }

    private static func parameters(_ text: Substring) -> [String: Int] {
        var result: [String: Int] = [:]
        for pair in text.split(separator: ",") {
            let halves = pair.split(separator: "=", maxSplits: 1)
            guard halves.count == 2, let value = Int(halves[1]) else { return [:] }
            result[String(halves[0])] = value
        }
        return result
    }
}
