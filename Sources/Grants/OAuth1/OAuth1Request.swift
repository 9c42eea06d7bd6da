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
public struct OAuth1Request: Sendable {
    /// The parameters of the `Authorization` header (less `realm`) and the `oauth_*`
    /// and `xoauth_*` ones of the query and form body, decoded.
    public let protocolParameters: [String: String]
    /// Every parameter that is signed, decoded, in arrival order.
    let signedParameters: [(String, String)]
    public let method: String
    /// `scheme://host[:port]/path`, scheme and host lower case, default ports dropped.
    public let normalizedURL: String
    /// 2-legged (with its requestor, if any) or 3-legged (with its token).
    public let flow: OAuth1Flow
    /// `oauth_callback`, when sent (the request-token step).
    public let callback: String?
    /// `oauth_verifier`, when sent (the access-token step).
    public let verifier: String?
    /// `oauth_session_handle`, when sent (renewing an access token).
    public let sessionHandle: String?

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
        let headerParameters = try Self.parseHeader(header)
        var protocolParameters: [String: String] = [:]
        for (name, value) in headerParameters where name != "realm" {
            guard protocolParameters.updateValue(value, forKey: name) == nil else {
                throw OAuth1Problem(.parameterRejected, "\(name) appears twice in the Authorization header")
            }
        }
        var signed = headerParameters.filter { $0.0 != "realm" && $0.0 != "oauth_signature" }
        let queryParameters = Self.formParameters(rawQuery.map(String.init) ?? "")
        let bodyParameters = Self.formParameters(formBody ?? "")
        // Extensions (oauth_session_handle, xoauth_requestor_id) may arrive in the query or body too.
        for (name, value) in queryParameters + bodyParameters
        where name.hasPrefix("oauth_") || name.hasPrefix("xoauth_") {
            if name == "oauth_signature" { continue }
            guard protocolParameters[name] == nil else {
                throw OAuth1Problem(.parameterRejected, "\(name) is sent more than once")
            }
            protocolParameters[name] = value
        }
        signed += queryParameters + bodyParameters.filter { $0.0 != "oauth_signature" }
        self.protocolParameters = protocolParameters
        self.signedParameters = signed
        self.method = method.uppercased()
        self.normalizedURL = Self.normalizedURL(baseURL: baseURL, rawPath: rawPath)
        self.flow = try Self.flow(token: protocolParameters["oauth_token"], signed: signed)
        self.callback = protocolParameters["oauth_callback"]
        self.verifier = protocolParameters["oauth_verifier"]
        self.sessionHandle = protocolParameters["oauth_session_handle"]
    }

    /// 3-legged with a non-empty `oauth_token`; otherwise 2-legged, acting for the
    /// user `xoauth_requestor_id` or `user_id` names, if any. Naming the user twice,
    /// even with the same value, is refused: stacks disagree on which one counts.
    static func flow(token: String?, signed: [(String, String)]) throws(OAuth1Problem) -> OAuth1Flow {
        if let token, !token.isEmpty { return .threeLegged(token: token) }
        let requestors = signed.filter { $0.0 == "xoauth_requestor_id" || $0.0 == "user_id" }
        guard requestors.count <= 1 else {
            throw OAuth1Problem(
                .parameterRejected, "name the user once, with xoauth_requestor_id or user_id, not both or twice")
        }
        return .twoLegged(requestor: requestors.first?.1)
    }

    /// RFC 5849 §3.4.1.1: `METHOD&URL&PARAMETERS`, each percent-encoded.
    public var signatureBaseString: String {
        let encoded: [(name: String, value: String)] = signedParameters.map { (Self.encode($0.0), Self.encode($0.1)) }
        let sorted = encoded.sorted(by: Self.precedes)
        let normalized = sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
        return [method, Self.encode(normalizedURL), Self.encode(normalized)].joined(separator: "&")
    }

    /// Byte order of the encoded name, then of the encoded value (RFC 5849 §3.4.1.3.2).
    static func precedes(_ lhs: (name: String, value: String), _ rhs: (name: String, value: String)) -> Bool {
        if lhs.name != rhs.name { return Array(lhs.name.utf8).lexicographicallyPrecedes(Array(rhs.name.utf8)) }
        return Array(lhs.value.utf8).lexicographicallyPrecedes(Array(rhs.value.utf8))
    }

    /// RFC 5849 §3.6: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`, upper-case hex.
    public static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return result
    }

    /// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space).
    public static func formParameters(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in percentDecoded(String(part.map { $0 == "+" ? " " : $0 })) }
            return (decode(halves[0]), halves.count > 1 ? decode(halves[1]) : "")
        }
    }

    /// RFC 5849 §3.5.1: `name="value", …` with percent-encoded values.
    static func parseHeader(_ header: Substring) throws(OAuth1Problem) -> [(String, String)] {
        var result: [(String, String)] = []
        var rest = header[...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard !rest.isEmpty else { break }
            guard let equals = rest.firstIndex(of: "=") else {
                throw OAuth1Problem(.parameterRejected, "the OAuth Authorization header is not name=\"value\" pairs")
            }
            let name = rest[..<equals].trimmingCharacters(in: [" ", "\t"])
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else {
                throw OAuth1Problem(
                    .parameterRejected, "the value of \(name.prefix(40)) in the Authorization header is not quoted")
            }
            result.append(
                (percentDecoded(String(name)), percentDecoded(String(rest[rest.index(after: rest.startIndex)..<close])))
            )
            rest = rest[rest.index(after: close)...]
        }
        return result
    }

    static func normalizedURL(baseURL: String, rawPath: Substring) -> String {
        guard let schemeEnd = baseURL.range(of: "://") else { return baseURL + rawPath }
        let scheme = baseURL[..<schemeEnd.lowerBound].lowercased()
        let afterScheme = baseURL[schemeEnd.upperBound...]
        var authority = afterScheme.prefix { $0 != "/" }.lowercased()
        if scheme == "http" && authority.hasSuffix(":80") { authority.removeLast(3) }
        if scheme == "https" && authority.hasSuffix(":443") { authority.removeLast(4) }
        return scheme + "://" + authority + rawPath
    }

    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
