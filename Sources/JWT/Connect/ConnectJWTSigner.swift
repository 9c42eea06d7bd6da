/// Makes Connect JWTs for one request, as an app would (for scripts, tests and demos).
public struct ConnectJWTSigner: Sendable {
    public let issuer: String
    public let key: JWTKey
    public var basePath: String

    public init(issuer: String, key: JWTKey, basePath: String = "") {
        self.issuer = issuer
        self.key = key
        self.basePath = basePath
    }

    /// A token for `method rawPath?rawQuery`, valid from `issuedAt` for `lifetime` seconds.
    public func token(
        method: String, rawPath: some StringProtocol, rawQuery: some StringProtocol,
        issuedAt: Int64 = UnixTime.now(), lifetime: Int64 = 180,
        subject: String? = nil
    ) throws(JWTError) -> String {
        let canonical = try CanonicalRequest(method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)
        return try token(qsh: canonical.queryStringHash, issuedAt: issuedAt, lifetime: lifetime, subject: subject)
    }

    /// A token with an explicit `qsh` (say `QueryStringHash.context`).
    public func token(
        qsh: String, issuedAt: Int64 = UnixTime.now(), lifetime: Int64 = 180,
        subject: String? = nil
    ) throws(JWTError) -> String {
        var claims = JSONObject()
        claims["iss"] = .string(issuer)
        claims["iat"] = .integer(issuedAt)
        claims["exp"] = .integer(issuedAt + lifetime)
        claims["qsh"] = .string(qsh)
        if let subject { claims["sub"] = .string(subject) }
        return try JWTSigner(key: key).sign(claims)
    }
}
