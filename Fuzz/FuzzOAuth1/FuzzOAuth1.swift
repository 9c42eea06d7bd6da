// The OAuth 1.0a `Authorization` header and parameter parser (docs/testing.md,
// "Fuzzing"; docs/protocols.md §6). Grants' `OAuth1Request` and `OAuth1Problem` are
// compiled into this harness (symbolic links to Sources/Grants).
//
// The input is lines: the header after `OAuth `, the method, the base URL, the raw
// path, the raw query (absent when the line is missing), then the form body. Beyond
// "no crash": RFC 5849 §3.6 encoding round-trips, and the signature base string is
// the method and two encoded parts.
// Foundation: `OAuth1Request` calls its `range(of:)`, which Grants imports elsewhere.
import Foundation
import JWT

func fuzzOAuth1(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 5, omittingEmptySubsequences: false)
    let field = { (index: Int) in index < lines.count ? String(lines[index]) : "" }
    let request = try? OAuth1Request(
        header: lines[0], method: field(1), baseURL: field(2), rawPath: Substring(field(3)),
        rawQuery: lines.count > 4 ? lines[4] : nil, formBody: lines.count > 5 ? String(lines[5]) : nil)
    if let request {
        // The method is an HTTP token, written as is (RFC 5849 §3.4.1.1); URL and parameters are encoded.
        let base = request.signatureBaseString
        precondition(
            base.hasPrefix(request.method + "&"), "a signature base string that does not start with the method")
        let parts = base.dropFirst(request.method.count + 1).split(separator: "&", omittingEmptySubsequences: false)
        precondition(
            parts.count == 2 && parts.allSatisfy(isEncoded), "a signature base string part that is not encoded")
        switch request.flow {
        case .threeLegged(let token): precondition(!token.isEmpty, "3-legged with an empty token")
        case .twoLegged: precondition((request.protocolParameters["oauth_token"] ?? "").isEmpty, "a lost token")
        }
    }
    for line in lines {
        let encoded = OAuth1Request.encode(String(line))
        precondition(isEncoded(Substring(encoded)), "encode left a reserved character")
        precondition(OAuth1Request.percentDecoded(encoded) == line, "encoding does not round-trip")
    }
    _ = OAuth1Request.formParameters(text)
    return 0
}

/// Only unreserved characters and `%XX` with upper-case hex (RFC 5849 §3.6).
private func isEncoded(_ text: Substring) -> Bool {
    var bytes = text.utf8.makeIterator()
    while let byte = bytes.next() {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            continue
        case UInt8(ascii: "%"):
            for _ in 0..<2 {
                guard let digit = bytes.next(),
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit)
                        || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(digit)
                else { return false }
            }
        default:
            return false
        }
    }
    return true
}
