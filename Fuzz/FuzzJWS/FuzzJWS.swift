// Compact JWS parsing and verification (docs/testing.md, "Fuzzing"; docs/jwt.md).
//
// The first byte's low bits pick what the rest is (its high bit allows `context-qsh`):
// - 0: a token, parsed and verified as received (JWTVerifier, ConnectJWTVerifier);
// - 1: `HEADER-JSON NUL CLAIMS-JSON`, signed here with the harness's key, so the
//   claim checks and the `qsh` binding are reached past the signature;
// - 2: base64url text, decoded and re-encoded.
// Beyond "no crash", it checks that the Connect verifier's common case and its full
// path agree on every token (docs/jwt.md, "The Connect request binding").
@testable import JWT

private let now: Int64 = 1_700_000_000
private let secret = try! JWTKey.secret(Array("linkgate-fuzz-shared-secret-0123456789".utf8), algorithm: .hs256)
private let ecKey = try! JWTKey.generate(.es256, keyID: "ec-1")
private let rsaKey = try! JWTKey.generate(.rs256, keyID: "rsa-1")
private let verifier = JWTVerifier(keys: [secret, ecKey, rsaKey])
private let connect = ConnectJWTVerifier(basePath: "/jira") { issuer in issuer == "fuzz-app" ? secret : nil }

/// The keys' objects, as plain references. `JWTKey.Material` keeps its object with the
/// enum's tag in the pointer's spare bits, which LeakSanitizer does not read as a
/// pointer: without these it reports the harness's own keys as leaked.
private let anchors: [any AnyObject & Sendable] = [secret, ecKey, rsaKey].map { key in
    switch key.material {
    case .secret(let object): object
    case .asymmetric(let object): object
    }
}

/// Makes the harness's keys before the first input, so no input pays for them.
func setUpJWS() {
    precondition(anchors.count == 3 && verifier.keys.count == 3 && connect.basePath == "/jira")
}

/// The request every Connect token is checked against (its `qsh` is in the seeds).
private enum Request {
    static let method = "GET"
    static let rawPath: Substring = "/jira/rest/api/2/issue/KEY-1"
    static let rawQuery: Substring = "expand=names&fields=summary,status&jwt=x"
}

func fuzzJWS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data + 1, count: size - 1)
    switch (data[0] & 0x7F) % 3 {
    case 0: checkToken(String(decoding: input, as: UTF8.self), allowContext: data[0] & 0x80 != 0)
    case 1: checkToken(signed(input), allowContext: data[0] & 0x80 != 0)
    default: checkBase64URL(input)
    }
    return 0
}

private func checkToken(_ token: String, allowContext: Bool) {
    _ = try? CompactJWS(parsing: token)
    _ = try? UnverifiedJWT(decoding: token)
    _ = try? verifier.verify(token, now: now)
    checkConnect(token, allowContext: allowContext)
}

/// `verify` is the common case, else the full path; the two must never disagree.
private func checkConnect(_ token: String, allowContext: Bool) {
    let common = Result { () throws(JWTError) -> ConnectClaims? in
        try connect.verifyCommonCase(
            Substring(token), method: Request.method, rawPath: Request.rawPath, rawQuery: Request.rawQuery,
            allowContextQSH: allowContext, now: now)
    }
    let full = Result { () throws(JWTError) -> ConnectClaims in
        try connect.verifyInFull(
            Substring(token), method: Request.method, rawPath: Request.rawPath, rawQuery: Request.rawQuery,
            allowContextQSH: allowContext, now: now)
    }
    switch (common, full) {
    case (.success(let fast?), .success(let slow)):
        precondition(fast.issuer == slow.issuer && fast.isContextToken == slow.isContextToken, "the paths differ")
        precondition(fast.claims == slow.claims, "the common case reads other claims than the full path")
    case (.success(.some), .failure(let error)):
        preconditionFailure("the common case accepts a token the full path refuses (\(error.code))")
    case (.failure(let error), let slow):
        precondition(error.code == .invalidSignature, "the common case threw \(error.code)")
        guard case .failure(let slowError) = slow, slowError.code == .invalidSignature else {
            preconditionFailure("the common case refuses a signature the full path does not")
        }
    case (.success(nil), _):
        break
    }
}

/// `BASE64URL(header).BASE64URL(claims).BASE64URL(signature)`, signed with the key
/// the header's `alg` names (HS256 otherwise; RSA signing is too slow to fuzz).
private func signed(_ input: UnsafeBufferPointer<UInt8>) -> String {
    let separator = input.firstIndex(of: 0)
    let header =
        separator.map { Array(input[..<$0]) } ?? Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)
    let claims = separator.map { Array(input[($0 + 1)...]) } ?? Array(input)
    let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims)
    let key = header.starts(with: Array(#"{"alg":"ES256""#.utf8)) ? ecKey : secret
    guard let signature = try? key.sign(Array(signingInput.utf8)) else { return signingInput + "." }
    return signingInput + "." + Base64URL.encode(signature)
}

/// Strict base64url: what decodes re-encodes to the same text, and encoding round-trips.
private func checkBase64URL(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    if let decoded = try? Base64URL.decode(text) {
        precondition(Base64URL.encode(decoded) == text, "base64url text that does not re-encode to itself")
    }
    precondition((try? Base64URL.decode(Base64URL.encode(input))) == Array(input), "base64url does not round-trip")
}
