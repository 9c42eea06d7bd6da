/// The credential a request carries, found without verifying anything
/// (docs/gateway.md §3): at most one `Authorization` header or one `jwt` parameter.
enum PresentedCredential: Sendable, Equatable {
    case none
    /// A Connect JWT, from `Authorization: JWT …` or from the `jwt` query parameter.
    case connectJWT(Substring, fromQuery: Bool)
    /// `Authorization: Bearer …`: an OAuth 2.0 access token.
    case bearer(Substring)
    /// `Authorization: Basic …`: an API token.
    case basic(Substring)
    /// `Authorization: OAuth …`: an OAuth 1.0a signed request.
    case oauth1(Substring)

    /// Longest token accepted (docs/gateway.md §4): longer is a 400 before any parsing.
    static let maxTokenBytes = 8 * 1024

    /// The scheme the gateway answers a failure of this credential with.
    var scheme: AuthorizationScheme {
        switch self {
        case .none, .connectJWT: .jwt
        case .bearer: .bearer
        case .basic: .basic
        case .oauth1: .oauth
        }
    }

    /// The audit log's name for a credential not (yet) verified.
    var auditName: String {
        switch self {
        case .none: "anonymous"
        case .connectJWT: "jwt"
        case .bearer: "bearer"
        case .basic: "basic"
        case .oauth1: "oauth1"
        }
    }

    /// Finds the request's credential.
    /// - Parameters:
    ///   - authorization: every `Authorization` header value received.
    ///   - rawQuery: the query as received, without `?`.
    /// - Throws: 400 for two credentials or an oversized token, 401 for an
    ///   empty credential or a scheme the gateway does not speak.
    static func find(authorization: [Substring], rawQuery: Substring?) throws(GatewayError) -> PresentedCredential {
        try find(firstAuthorization: authorization.first, authorizationCount: authorization.count, rawQuery: rawQuery)
    }

    /// `find(authorization:rawQuery:)` given the first `Authorization` value and how many there are.
    static func find(
        firstAuthorization: Substring?, authorizationCount: Int, rawQuery: Substring?
    ) throws(GatewayError) -> PresentedCredential {
        let fromQuery = try QueryParameters.jwtValues(in: rawQuery)
        guard authorizationCount + fromQuery.count <= 1 else {
            throw GatewayError(
                .twoCredentials,
                "the request carries \(authorizationCount + fromQuery.count) credentials "
                    + "(Authorization headers and jwt parameters); send exactly one")
        }
        if let token = fromQuery.first {
            return .connectJWT(try checked(token[...], scheme: .jwt), fromQuery: true)
        }
        guard let header = firstAuthorization else { return .none }
        return try parse(header: header)
    }

    /// `SCHEME SP TOKEN`; the scheme word is case-insensitive (RFC 9110 §11.1).
    static func parse(header: Substring) throws(GatewayError) -> PresentedCredential {
        // Spaces and tabs are ASCII: the UTF-8 view finds them without grapheme breaking.
        let bytes = header.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let schemeStart = bytes.firstIndex { !isBlank($0) } ?? bytes.endIndex
        let schemeEnd = bytes[schemeStart...].firstIndex(where: isBlank) ?? bytes.endIndex
        let tokenStart = bytes[schemeEnd...].firstIndex { !isBlank($0) } ?? bytes.endIndex
        let tokenEnd = bytes[tokenStart...].lastIndex { !isBlank($0) }.map { bytes.index(after: $0) } ?? tokenStart
        let scheme = header[schemeStart..<schemeEnd]
        let value = header[tokenStart..<tokenEnd]
        // Compared as ASCII bytes in any case: no lowercased string made a request.
        switch scheme.utf8 {
        case let word where isWord(word, "jwt"): return .connectJWT(try checked(value, scheme: .jwt), fromQuery: false)
        case let word where isWord(word, "bearer"): return .bearer(try checked(value, scheme: .bearer))
        case let word where isWord(word, "basic"): return .basic(try checked(value, scheme: .basic))
        case let word where isWord(word, "oauth"): return .oauth1(try checked(value, scheme: .oauth))
        default:
            throw GatewayError(
                .unsupportedScheme,
                "the Authorization scheme \"\(scheme.prefix(32))\" is not supported; use JWT, Bearer, Basic or OAuth")
        }
    }

    /// Whether `word` is `lowercase` (ASCII lower case) in any case.
    private static func isWord(_ word: Substring.UTF8View, _ lowercase: StaticString) -> Bool {
        guard word.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(word, expected).allSatisfy { RawHeadReader.asciiLowercased($0) == $1 }
    }

    private static func checked(_ token: Substring, scheme: AuthorizationScheme) throws(GatewayError) -> Substring {
        guard !token.isEmpty else {
            throw GatewayError(.emptyCredential, "the \(scheme.rawValue) credential is empty", scheme: scheme)
        }
        guard token.utf8.count <= maxTokenBytes else {
            throw GatewayError(
                .tokenTooLarge,
                "the \(scheme.rawValue) credential is \(token.utf8.count) bytes; at most \(maxTokenBytes) are accepted")
        }
        return token
    }
}
