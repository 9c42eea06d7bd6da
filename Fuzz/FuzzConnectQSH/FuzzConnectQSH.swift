// The Connect canonical request and `qsh` (docs/testing.md, "Fuzzing";
// docs/protocols.md §2).
//
// The input is four lines: method, raw path, raw query, base URL. Beyond "no crash":
// the hash compared in stack buffers is the readable form's hash; another hash does
// not match; the order of the query's parameters does not matter; and a Connect JWT
// signed for the request verifies on it, `jwt` parameter and all.
@testable import JWT

private let now: Int64 = 1_700_000_000
private let secret = try! JWTKey.secret(Array("linkgate-fuzz-shared-secret-0123456789".utf8), algorithm: .hs256)

func fuzzConnectQSH(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var lines = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    while lines.count < 4 { lines.append("") }
    let (method, rawPath, rawQuery) = (lines[0], lines[1], lines[2])
    let basePath = CanonicalRequest.basePath(ofBaseURL: lines[3])
    precondition(!basePath.hasSuffix("/"), "a base path ending in /")

    let canonical: CanonicalRequest
    do {
        canonical = try CanonicalRequest(method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath)
    } catch {
        precondition(error.code == .invalidQueryEncoding, "the canonical request threw \(error.code)")
        let fast = Result { () throws(JWTError) in
            try CanonicalForm.queryStringHash(
                String(repeating: "0", count: 64), matchesMethod: method, rawPath: Substring(rawPath),
                rawQuery: Substring(rawQuery), basePath: basePath)
        }
        guard case .failure(let fastError) = fast, fastError.code == error.code else {
            preconditionFailure("the qsh comparison accepts a query the canonical request refuses")
        }
        return 0
    }
    let hash = canonical.queryStringHash
    precondition(matches(hash, method, rawPath, rawQuery, basePath), "the qsh of a request does not match it")
    let other = String(hash.dropLast()) + (hash.last == "0" ? "1" : "0")
    precondition(!matches(other, method, rawPath, rawQuery, basePath), "another qsh matches the request")

    let reordered = rawQuery.split(separator: "&", omittingEmptySubsequences: false).reversed().joined(separator: "&")
    let again = try? CanonicalRequest(method: method, rawPath: rawPath, rawQuery: reordered, basePath: basePath)
    precondition(again == canonical, "the canonical request depends on the order of the query's parameters")

    let signer = ConnectJWTSigner(issuer: "fuzz-app", key: secret, basePath: basePath)
    let verifier = ConnectJWTVerifier(basePath: basePath) { $0 == "fuzz-app" ? secret : nil }
    guard let token = try? signer.token(method: method, rawPath: rawPath, rawQuery: rawQuery, issuedAt: now) else {
        preconditionFailure("cannot sign a token for a request that canonicalises")
    }
    let sent = rawQuery.isEmpty ? "jwt=\(token)" : "\(rawQuery)&jwt=\(token)"
    do {
        _ = try verifier.verify(token, method: method, rawPath: rawPath, rawQuery: sent, now: now)
    } catch {
        preconditionFailure("a token signed for the request is refused on it: \(error)")
    }
    return 0
}

private func matches(
    _ hash: String, _ method: String, _ rawPath: String, _ rawQuery: String, _ basePath: String
) -> Bool {
    (try? CanonicalForm.queryStringHash(
        hash, matchesMethod: method, rawPath: Substring(rawPath), rawQuery: Substring(rawQuery),
        basePath: basePath)) == true
}
