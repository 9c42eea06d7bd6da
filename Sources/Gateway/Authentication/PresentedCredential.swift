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
        // Split on the UTF-8 bytes in place (spaces and tabs are ASCII), then cut
        // from `header` at the offsets found: no walk through string indices.
        let split =
            header.utf8.withContiguousStorageIfAvailable(HeaderSplit.init)
            ?? Array(header.utf8).withUnsafeBufferPointer(HeaderSplit.init)
        let utf8 = header.utf8
        let at = { (offset: Int) in utf8.index(utf8.startIndex, offsetBy: offset) }
        let value = header[at(split.token.lowerBound)..<at(split.token.upperBound)]
        switch split.scheme {
        case .jwt: return .connectJWT(try checked(value, scheme: .jwt), fromQuery: false)
        case .bearer: return .bearer(try checked(value, scheme: .bearer))
        case .basic: return .basic(try checked(value, scheme: .basic))
        case .oauth: return .oauth1(try checked(value, scheme: .oauth))
        case nil:
            let scheme = header[at(split.schemeWord.lowerBound)..<at(split.schemeWord.upperBound)]
            throw GatewayError(
                .unsupportedScheme,
                "the Authorization scheme \"\(scheme.prefix(32))\" is not supported; use JWT, Bearer, Basic or OAuth")
        }
    }

    /// Where an `Authorization` value's scheme word and token are, as byte offsets,
    /// and the scheme the word names (compared as ASCII in any case; nil: none the
    /// gateway speaks).
    struct HeaderSplit {
        let schemeWord: Range<Int>
        let token: Range<Int>
        let scheme: AuthorizationScheme?

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var index = 0
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            let schemeStart = index
            while index < bytes.count, !isBlank(bytes[index]) { index += 1 }
            let schemeEnd = index
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            var tokenEnd = bytes.count
            while tokenEnd > index, isBlank(bytes[tokenEnd - 1]) { tokenEnd -= 1 }
            schemeWord = schemeStart..<schemeEnd
            token = index..<tokenEnd
            scheme = Self.scheme(named: UnsafeBufferPointer(rebasing: bytes[schemeWord]))
        }

        /// The scheme `word` names, in any case; nil for one the gateway does not speak.
        private static func scheme(named word: UnsafeBufferPointer<UInt8>) -> AuthorizationScheme? {
            if isWord(word, "jwt") { return .jwt }
            if isWord(word, "bearer") { return .bearer }
            if isWord(word, "basic") { return .basic }
            if isWord(word, "oauth") { return .oauth }
            return nil
        }

        /// Whether `word` is `lowercase` (ASCII lower case) in any case.
        private static func isWord(_ word: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
            guard word.count == lowercase.utf8CodeUnitCount else { return false }
            let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
            return zip(word, expected).allSatisfy { RawHeadReader.asciiLowercased($0) == $1 }
        }
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
