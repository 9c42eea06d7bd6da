import JWT

/// Whom a signed request acts for (docs/protocols.md §6), read once from its parameters.
public enum OAuth1Flow: Sendable, Hashable {
    /// `oauth_token` empty or absent: the consumer signs alone. `requestor` is the
    /// user named by `xoauth_requestor_id` or `user_id` (exactly one of them, once),
    /// for 2-legged impersonation; nil when neither is sent.
    case twoLegged(requestor: String?)
    /// Signed with the token in `oauth_token`: an access token, or a request
    /// token at the access-token step.
    case threeLegged(token: String)
}

/// A request as OAuth 1.0a signs it (RFC 5849 §3.4.1): the method, the
/// normalised URL, and every parameter from the `Authorization` header (less
/// `realm` and `oauth_signature`), the query and a form body.
///
/// Read on the request's bytes, and decoded straight into the strings it keeps; the
/// signature base string is written into one buffer (docs/links.md, "Signed requests").
public struct OAuth1Request: Sendable {
    /// The parameters of the `Authorization` header (less `realm`) and the `oauth_*` and
    /// `xoauth_*` ones of the query and form body, decoded.
    public let protocolParameters: OAuth1ProtocolParameters
    /// Every parameter that is signed, decoded, in arrival order.
    let signedParameters: [OAuth1Parameter]
    public let method: String
    /// The site's `baseUrl` and the path as received, which `normalizedURL` is made of.
    let baseURL: String
    let rawPath: Substring
    /// 2-legged (with its requestor, if any) or 3-legged (with its token).
    public let flow: OAuth1Flow
    /// `oauth_callback`, when sent (the request-token step).
    public var callback: String? { protocolParameters["oauth_callback"] }
    /// `oauth_verifier`, when sent (the access-token step).
    public var verifier: String? { protocolParameters["oauth_verifier"] }
    /// `oauth_session_handle`, when sent (renewing an access token).
    public var sessionHandle: String? { protocolParameters["oauth_session_handle"] }

    /// - Parameters:
    ///   - header: the value after `OAuth ` of the Authorization header.
    ///   - baseURL: the site's `baseUrl`: its scheme, host and port stand for the request's.
    ///   - rawPath: the path as received.
    ///   - rawQuery: the query as received, without `?`.
    ///   - formBody: the body when it is `application/x-www-form-urlencoded`.
    /// - Throws: `parameter_rejected` for a malformed header, a repeated `oauth_`
    ///   parameter, or a 2-legged request naming its user more than once.
    public init(
        header: Substring, method: String, baseURL: String, rawPath: Substring, rawQuery: Substring?,
        formBody: String? = nil
    ) throws(OAuth1Problem) {
        var parameters = OAuth1ProtocolParameters()
        var signed: [OAuth1Parameter] = []
        signed.reserveCapacity(8)
        try Self.readHeader(header, into: &parameters, signed: &signed)
        if let rawQuery { try Self.readForm(rawQuery, into: &parameters, signed: &signed, fromBody: false) }
        if let formBody { try Self.readForm(formBody[...], into: &parameters, signed: &signed, fromBody: true) }
        self.protocolParameters = parameters
        self.signedParameters = signed
        self.method =
            method.utf8.contains { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
            ? method.uppercased() : method
        self.baseURL = baseURL
        self.rawPath = rawPath
        self.flow = try Self.flow(token: parameters["oauth_token"], signed: signed)
    }

    /// The header's pairs: each but `realm` is a protocol parameter, named once; each but
    /// `realm` and `oauth_signature` is signed.
    private static func readHeader(
        _ header: Substring, into parameters: inout OAuth1ProtocolParameters, signed: inout [OAuth1Parameter]
    ) throws(OAuth1Problem) {
        // A malformed header is reported before a repeated name, wherever each comes.
        var repeated: String?
        let outcome = OAuth1Bytes.withBytes(header) { bytes in
            Result { () throws(OAuth1Problem) in
                try OAuth1Bytes.forEachHeaderPair(bytes) { name, value in
                    guard name != "realm" else { return }
                    let parameter = OAuth1Parameter(name: name, value: value)
                    guard parameters.insert(parameter) else {
                        if repeated == nil { repeated = name }
                        return
                    }
                    if name != "oauth_signature" { signed.append(parameter) }
                }
            }
        }
        try outcome.get()
        if let repeated {
            throw OAuth1Problem(.parameterRejected, "\(repeated) appears twice in the Authorization header")
        }
    }

    /// The query's or the form body's pairs, all signed but a body's `oauth_signature`.
    /// Extensions (`oauth_session_handle`, `xoauth_requestor_id`) may arrive here too:
    /// `oauth_*` and `xoauth_*` ones are protocol parameters, and must not repeat one
    /// already sent. An `oauth_signature` here is never one.
    private static func readForm(
        _ text: Substring, into parameters: inout OAuth1ProtocolParameters, signed: inout [OAuth1Parameter],
        fromBody: Bool
    ) throws(OAuth1Problem) {
        let outcome = OAuth1Bytes.withBytes(text) { bytes in
            Result { () throws(OAuth1Problem) in
                try OAuth1Bytes.forEachFormPair(bytes) { (name, value) throws(OAuth1Problem) in
                    let parameter = OAuth1Parameter(name: name, value: value)
                    if name == "oauth_signature" {
                        if !fromBody { signed.append(parameter) }
                        return
                    }
                    if name.hasPrefix("oauth_") || name.hasPrefix("xoauth_") {
                        guard parameters.insert(parameter) else {
                            throw OAuth1Problem(.parameterRejected, "\(name) is sent more than once")
                        }
                    }
                    signed.append(parameter)
                }
            }
        }
        try outcome.get()
    }

    /// 3-legged with a non-empty `oauth_token`; otherwise 2-legged, acting for the
    /// user `xoauth_requestor_id` or `user_id` names, if any. Naming the user twice,
    /// even with the same value, is refused: stacks disagree on which one counts.
    static func flow(token: String?, signed: [OAuth1Parameter]) throws(OAuth1Problem) -> OAuth1Flow {
        if let token, !token.isEmpty { return .threeLegged(token: token) }
        var requestor: String?
        for parameter in signed where parameter.name == "xoauth_requestor_id" || parameter.name == "user_id" {
            guard requestor == nil else {
                throw OAuth1Problem(
                    .parameterRejected, "name the user once, with xoauth_requestor_id or user_id, not both or twice")
            }
            requestor = parameter.value
        }
        return .twoLegged(requestor: requestor)
    }

    /// `scheme://host[:port]/path`, scheme and host lower case, default ports dropped.
    public var normalizedURL: String { Self.normalizedURL(baseURL: baseURL, rawPath: rawPath) }

    /// RFC 5849 §3.4.1.1: `METHOD&URL&PARAMETERS`, each percent-encoded.
    public var signatureBaseString: String { String(decoding: signatureBase, as: UTF8.self) }

    /// The bytes of `signatureBaseString`, which the signature covers. Each parameter's
    /// name and value are encoded once, into one buffer, and sorted as those bytes
    /// (RFC 5849 §3.4.1.3.2: by name, then by value); the normalized parameters are
    /// then encoded again into the base (`%` as `%25`, `=` as `%3D`, `&` as `%26`).
    public var signatureBase: [UInt8] {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(signedParameters.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count } * 3)
        var spans: [(name: Range<Int>, value: Range<Int>)] = []
        spans.reserveCapacity(signedParameters.count)
        for parameter in signedParameters {
            let nameStart = encoded.count
            OAuth1Bytes.encode(parameter.name, into: &encoded)
            let valueStart = encoded.count
            OAuth1Bytes.encode(parameter.value, into: &encoded)
            spans.append((nameStart..<valueStart, valueStart..<encoded.count))
        }
        return encoded.withUnsafeBufferPointer { encoded in
            spans.sort { lhs, rhs in
                let (leftName, rightName) = (encoded[lhs.name], encoded[rhs.name])
                guard leftName.elementsEqual(rightName) else { return leftName.lexicographicallyPrecedes(rightName) }
                return encoded[lhs.value].lexicographicallyPrecedes(encoded[rhs.value])
            }
            var base: [UInt8] = []
            base.reserveCapacity(method.utf8.count + (baseURL.utf8.count + rawPath.utf8.count) * 3 + encoded.count * 3)
            base.append(contentsOf: method.utf8)
            base.append(UInt8(ascii: "&"))
            appendEncodedNormalizedURL(to: &base)
            base.append(UInt8(ascii: "&"))
            for (index, span) in spans.enumerated() {
                if index > 0 { base.append(contentsOf: "%26".utf8) }
                OAuth1Bytes.encode(UnsafeBufferPointer(rebasing: encoded[span.name]), into: &base)
                base.append(contentsOf: "%3D".utf8)
                OAuth1Bytes.encode(UnsafeBufferPointer(rebasing: encoded[span.value]), into: &base)
            }
            return base
        }
    }

    /// `normalizedURL`, percent-encoded, appended to `base` without making the URL first when
    /// the base URL's scheme and authority are ASCII (its lower case is then the bytes').
    private func appendEncodedNormalizedURL(to base: inout [UInt8]) {
        let utf8 = baseURL.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }), let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
            utf8[colon...].starts(with: "://".utf8)
        else {
            OAuth1Bytes.encode(normalizedURL, into: &base)
            return
        }
        let scheme = utf8[..<colon].lazy.map(Self.asciiLowercased)
        let afterScheme = utf8[utf8.index(colon, offsetBy: 3)...]
        var authority = afterScheme.prefix { $0 != UInt8(ascii: "/") }
        if scheme.elementsEqual("http".utf8), authority.suffix(3).elementsEqual(":80".utf8) {
            authority = authority.dropLast(3)
        }
        if scheme.elementsEqual("https".utf8), authority.suffix(4).elementsEqual(":443".utf8) {
            authority = authority.dropLast(4)
        }
        OAuth1Bytes.encode(each: scheme, into: &base)
        base.append(contentsOf: "%3A%2F%2F".utf8)
        OAuth1Bytes.encode(each: authority.lazy.map(Self.asciiLowercased), into: &base)
        OAuth1Bytes.encode(rawPath, into: &base)
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// RFC 5849 §3.6: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`, upper-case hex.
    public static func encode(_ text: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        OAuth1Bytes.encode(text, into: &encoded)
        return String(decoding: encoded, as: UTF8.self)
    }

    /// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space). Split
    /// on the bytes `&` and `=`, whatever follows them.
    public static func formParameters(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        OAuth1Bytes.withBytes(text[...]) { bytes in
            try? OAuth1Bytes.forEachFormPair(bytes) { name, value in pairs.append((name, value)) }
        }
        return pairs
    }

    /// RFC 5849 §3.5.1: `name="value", …` with percent-encoded values.
    static func parseHeader(_ header: Substring) throws(OAuth1Problem) -> [(String, String)] {
        var pairs: [(String, String)] = []
        let outcome = OAuth1Bytes.withBytes(header) { bytes in
            Result { () throws(OAuth1Problem) in
                try OAuth1Bytes.forEachHeaderPair(bytes) { name, value in pairs.append((name, value)) }
            }
        }
        try outcome.get()
        return pairs
    }

    static func normalizedURL(baseURL: String, rawPath: Substring) -> String {
        // The scheme ends at the first colon, which "//" follows (a scan of the bytes: no Foundation on the hot path).
        let utf8 = baseURL.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), utf8[colon...].starts(with: "://".utf8) else {
            return baseURL + rawPath
        }
        let scheme = baseURL[..<colon].lowercased()
        let afterScheme = baseURL[utf8.index(colon, offsetBy: 3)...]
        var authority = afterScheme.prefix { $0 != "/" }.lowercased()
        if scheme == "http" && authority.hasSuffix(":80") { authority.removeLast(3) }
        if scheme == "https" && authority.hasSuffix(":443") { authority.removeLast(4) }
        return scheme + "://" + authority + rawPath
    }

    /// `%XX` (two hex digits) decoded; anything else, a lone `%` included, kept as it is.
    static func percentDecoded(_ text: String) -> String {
        OAuth1Bytes.withBytes(text[...]) { OAuth1Bytes.decoded($0[...], plusIsSpace: false) }
    }
}
