import JWT

/// What an access token the gateway issues says (RFC 9068 §2.2): who it was
/// issued to, for whom, with which scopes, until when.
public struct AccessToken: Sendable, Equatable {
    /// How the token was obtained; it decides how the proxy reads its scopes (docs/gateway.md §3).
    public enum Grant: String, Sendable, CaseIterable {
        /// The JWT bearer grant (2LOi): scopes ∩ the app's Connect scopes now.
        case jwtBearer = "jwt-bearer"
        /// The authorization code grant (3LO): scopes ∩ the app's `oauth2.scopes` now.
        case authorizationCode = "authorization-code"
    }

    /// `jti`: unique, the key for revocation. Random, or, for a token an assertion was
    /// exchanged for, `exchangedTokenID(replayKey:)`.
    public let tokenID: String
    /// `iss`: the site's `baseUrl`.
    public let issuer: String
    /// `aud`: the site's `baseUrl` (the resource server is the gateway itself).
    public let audience: String
    /// `sub`: the account id the token acts as.
    public let subject: String
    /// `client_id`: the OAuth client (the app's `oauthClientId` or `oauth2.clientId`).
    public let clientID: String
    /// `app`: the app key, so the proxy finds the app without a client-id lookup.
    public let appKey: String
    /// `grant`: how the token was obtained.
    public let grant: Grant
    /// `scope`: space-separated in the token.
    public let scopes: [String]
    public let issuedAt: Int64
    public let expiresAt: Int64
    /// `grant_tag`: for a 3LO token on SQLite, the random tag of the grant (refresh family)
    /// it came from. Such a token has no row of its own: revoking the grant puts the tag on
    /// the revocation list, which refuses every token carrying it (docs/grants.md, "Grant
    /// tags"). Not the family's id, which a refresh token names; nil for other tokens.
    public let grantTag: String?

    public init(
        tokenID: String, issuer: String, audience: String, subject: String, clientID: String, appKey: String,
        grant: Grant, scopes: [String], issuedAt: Int64, expiresAt: Int64, grantTag: String? = nil
    ) {
        self.tokenID = tokenID
        self.issuer = issuer
        self.audience = audience
        self.subject = subject
        self.clientID = clientID
        self.appKey = appKey
        self.grant = grant
        self.scopes = scopes
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.grantTag = grantTag
    }

    /// Seconds left at `now` (never negative): the `expires_in` of a token response.
    public func expiresIn(now: Int64) -> Int64 { max(0, expiresAt - now) }

    /// The JWT claims, in RFC 9068's order.
    var claims: JSONObject {
        var claims = JSONObject()
        claims["iss"] = .string(issuer)
        claims["sub"] = .string(subject)
        claims["aud"] = .string(audience)
        claims["exp"] = .integer(expiresAt)
        claims["iat"] = .integer(issuedAt)
        claims["jti"] = .string(tokenID)
        claims["client_id"] = .string(clientID)
        claims["scope"] = .string(scopes.joined(separator: " "))
        claims["app"] = .string(appKey)
        claims["grant"] = .string(grant.rawValue)
        if let grantTag { claims["grant_tag"] = .string(grantTag) }
        return claims
    }

    /// Reads verified claims back; a claim missing or of the wrong type is `invalidClaim`.
    init(claims: JWTClaims) throws(JWTError) {
        func required(_ name: String) throws(JWTError) -> String {
            guard let value = try claims.string(name), !value.isEmpty else {
                throw JWTError(.missingClaim, "an access token needs \"\(name)\"")
            }
            return value
        }
        guard let grant = Grant(rawValue: try required("grant")) else {
            throw JWTError(.invalidClaim, "the access token's \"grant\" is not one this gateway issues")
        }
        guard let issuedAt = try claims.issuedAt(), let expiresAt = try claims.expiresAt() else {
            throw JWTError(.missingClaim, "an access token needs \"iat\" and \"exp\"")
        }
        guard let audience = try claims.audience()?.first else {
            throw JWTError(.missingClaim, "an access token needs \"aud\"")
        }
        let scope = try claims.string("scope") ?? ""
        let grantTag = try claims.string("grant_tag")
        if let grantTag, grantTag.isEmpty || grant != .authorizationCode {
            throw JWTError(.invalidClaim, "the access token's \"grant_tag\" is empty or on a token of another grant")
        }
        self.init(
            tokenID: try required("jti"), issuer: try required("iss"), audience: audience, subject: try required("sub"),
            clientID: try required("client_id"), appKey: try required("app"), grant: grant,
            scopes: scope.split(separator: " ").map(String.init), issuedAt: issuedAt, expiresAt: expiresAt,
            grantTag: grantTag)
    }
}

extension AccessToken {
    /// The `jti` of the token exchanged for the assertion with `replayKey`: the first 16
    /// bytes of SHA-256(`linkgate 2LOi token:` + `replayKey`), base64url. As long as a
    /// random `jti` (`SecureRandom.identifier()`) and as unlikely to collide; not a
    /// secret, as a `jti` is readable in its token. The token row's key then spends the
    /// assertion (docs/grants.md, "Transactions").
    public static func exchangedTokenID(replayKey: String) -> String {
        Base64URL.encode(Digest.sha256.hash(Array(("linkgate 2LOi token:" + replayKey).utf8)).prefix(16))
    }
}
