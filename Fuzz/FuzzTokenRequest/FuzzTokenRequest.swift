// Form and JSON token-request decoding (docs/testing.md, "Fuzzing"; docs/protocols.md
// §4). Gateway's `OAuthParameters` is compiled into this harness (a symbolic link to
// Sources/Gateway), with Grants' `OAuthError` from FuzzGrantsErrors.
//
// The first byte picks the content type (form, JSON, or the first line of the rest);
// the rest is the body, read by `OAuthParameters.read` from a Hummingbird request as
// the token, revocation and introspection endpoints read it. Beyond "no crash": a
// JSON body that names a member twice is refused.
import Dispatch
import Grants  // FuzzGrantsErrors, by the alias in Package.swift
import Hummingbird
import JWT

func fuzzTokenRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let contentType: String
    switch data[0] % 3 {
    case 0: contentType = "application/x-www-form-urlencoded"
    case 1: contentType = "application/json; charset=utf-8"
    default:
        let line = body.firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
        contentType = String(decoding: body[..<line], as: UTF8.self)
        body = Array(body[min(line + 1, body.endIndex)...])
    }
    let result = read(contentType: contentType, body: body)
    if contentType.hasPrefix("application/json"), hasDuplicateKey(body) {
        guard case .failure(let error) = result, error.code == .invalidRequest else {
            preconditionFailure("a JSON body that names a member twice is accepted")
        }
    }
    return 0
}

private func hasDuplicateKey(_ body: [UInt8]) -> Bool {
    do {
        _ = try JSONValue.parse(body)
    } catch {
        return error.code == .duplicateKey
    }
    return false
}

/// Runs the endpoints' async reader to completion: the body is in memory, so it
/// never waits on the network.
private func read(contentType: String, body: [UInt8]) -> Result<OAuthParameters, OAuthError> {
    let head = HTTPRequest(
        method: .post, scheme: "http", authority: "127.0.0.1:8080", path: "/oauth2/token",
        headerFields: [.contentType: contentType])
    let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
    let outcome = Outcome()
    Task {
        do throws(OAuthError) {
            outcome.result = .success(try await OAuthParameters.read(request))
        } catch {
            outcome.result = .failure(error)
        }
        outcome.done.signal()
    }
    outcome.done.wait()
    return outcome.result!
}

/// Written by the reading task before it signals, read after the wait.
private final class Outcome: @unchecked Sendable {
    var result: Result<OAuthParameters, OAuthError>?
    let done = DispatchSemaphore(value: 0)
}
