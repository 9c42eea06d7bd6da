@testable import Grants

/// The OAuth 1.0a request parser as it was before it worked on bytes without
/// intermediate strings (a copy of its code at 586f9a8, doc comments dropped): the
/// reference `OAuth1RequestTests.sameAsReference` compares the parser with.
struct ReferenceOAuth1Request {
    let protocolParameters: [String: String]
    let signedParameters: [(String, String)]
    let method: String
    let normalizedURL: String
    let flow: OAuth1Flow
    let callback: String?
    let verifier: String?
    let sessionHandle: String?

    init(
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

    static func flow(token: String?, signed: [(String, String)]) throws(OAuth1Problem) -> OAuth1Flow {
        if let token, !token.isEmpty { return .threeLegged(token: token) }
        let requestors = signed.filter { $0.0 == "xoauth_requestor_id" || $0.0 == "user_id" }
        guard requestors.count <= 1 else {
            throw OAuth1Problem(
                .parameterRejected, "name the user once, with xoauth_requestor_id or user_id, not both or twice")
        }
        return .twoLegged(requestor: requestors.first?.1)
    }

    var signatureBaseString: String { String(decoding: signatureBase, as: UTF8.self) }

    var signatureBase: [UInt8] {
        let sorted = signedParameters.map { (name: Self.encode($0.0), value: Self.encode($0.1)) }
            .sorted(by: Self.precedes)
        var normalized: [UInt8] = []
        normalized.reserveCapacity(sorted.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        for (index, pair) in sorted.enumerated() {
            if index > 0 { normalized.append(UInt8(ascii: "&")) }
            normalized.append(contentsOf: pair.name.utf8)
            normalized.append(UInt8(ascii: "="))
            normalized.append(contentsOf: pair.value.utf8)
        }
        var base: [UInt8] = []
        base.reserveCapacity(method.utf8.count + normalizedURL.utf8.count * 3 + normalized.count * 3 + 2)
        base.append(contentsOf: method.utf8)
        base.append(UInt8(ascii: "&"))
        Self.encode(normalizedURL.utf8, into: &base)
        base.append(UInt8(ascii: "&"))
        Self.encode(normalized, into: &base)
        return base
    }

    static func precedes(_ lhs: (name: String, value: String), _ rhs: (name: String, value: String)) -> Bool {
        if lhs.name != rhs.name { return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8) }
        return lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }

    static func encode(_ text: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        encode(text.utf8, into: &encoded)
        return String(decoding: encoded, as: UTF8.self)
    }

    static func encode(_ bytes: some Sequence<UInt8>, into encoded: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.append(byte)
            default:
                encoded.append(UInt8(ascii: "%"))
                encoded.append(upperHexDigits[Int(byte >> 4)])
                encoded.append(upperHexDigits[Int(byte & 15)])
            }
        }
    }

    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    static func formParameters(_ text: String) -> [(String, String)] {
        let bytes = Array(text.utf8)
        return bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let halves = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: ArraySlice<UInt8>) in
                percentDecoded(ArraySlice(part.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }))
            }
            return (decode(halves[0]), halves.count > 1 ? decode(halves[1]) : "")
        }
    }

    static func parseHeader(_ header: Substring) throws(OAuth1Problem) -> [(String, String)] {
        // On bytes: the delimiters are ASCII, and a mark after a quote must not hide it
        // (as it would from a scan by Characters).
        let bytes = Array(header.utf8)
        var result: [(String, String)] = []
        var index = 0
        while true {
            while index < bytes.count, Self.isPairSeparator(bytes[index]) { index += 1 }
            guard index < bytes.count else { break }
            guard let equals = bytes[index...].firstIndex(of: UInt8(ascii: "=")) else {
                throw OAuth1Problem(.parameterRejected, "the OAuth Authorization header is not name=\"value\" pairs")
            }
            var nameEnd = equals
            while nameEnd > index, bytes[nameEnd - 1] == UInt8(ascii: " ") || bytes[nameEnd - 1] == UInt8(ascii: "\t") {
                nameEnd -= 1
            }
            let name = bytes[index..<nameEnd]
            let open = equals + 1
            guard open < bytes.count, bytes[open] == UInt8(ascii: "\""),
                let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "\""))
            else {
                let shown = String(decoding: name, as: UTF8.self).prefix(40)
                throw OAuth1Problem(
                    .parameterRejected, "the value of \(shown) in the Authorization header is not quoted")
            }
            result.append((percentDecoded(name), percentDecoded(bytes[(open + 1)..<close])))
            index = close + 1
        }
        return result
    }

    private static func isPairSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",")
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

    static func percentDecoded(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        return percentDecoded(Array(text.utf8)[...])
    }

    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(decoding: bytes, as: UTF8.self) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex, let high = Self.hexValue(bytes[index + 1]),
                let low = Self.hexValue(bytes[index + 2])
            {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
