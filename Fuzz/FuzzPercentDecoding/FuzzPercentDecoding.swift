import Scopes

// Percent decoding and the request target's path check (docs/testing.md, "Fuzzing";
// docs/protocols.md §5). The gateway's `RequestLine`, `PathNormalization` and
// `QueryParameters` are compiled into this harness (symbolic links to Sources/Gateway).
//
// The input is a request target. Beyond "no crash": the Scopes decoder and the qsh's
// form decoder agree; a target the gateway accepts decodes to a path with no dot
// segment; and a query with its `jwt` parameters removed has none left.
@testable import JWT

func fuzzPercentDecoding(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    checkDecoders(text)
    _ = PathNormalization.problem(in: Substring(text))
    if let line = try? RequestLine.parse(method: "GET", target: text) {
        checkAccepted(line, target: text)
    }
    if let question = text.firstIndex(of: "?") {
        checkJWTRemoval(text[text.index(after: question)...])
    }
    return 0
}

/// `PercentDecoding` (routes, query values) and `PercentEncoding.formDecode` (the qsh)
/// decode a query component to the same text, or both refuse it.
private func checkDecoders(_ text: String) {
    let path = PercentDecoding.decode(text, plusAsSpace: false)
    let form = PercentDecoding.decode(text, plusAsSpace: true)
    let bytes = PercentDecoding.decodedBytes(text.utf8, plusAsSpace: true)
    precondition((bytes != nil) == QueryParameters.isWellFormed(Substring(text)), "two views of a malformed %")
    precondition((path == nil) == (form == nil), "a component decodes in one mode only")
    let qsh = Array(text.utf8).withUnsafeBufferPointer { raw in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(raw.count, 1)) { buffer -> String? in
            var sink = ByteSink(buffer)
            do throws(JWTError) {
                try PercentEncoding.formDecode(raw, into: &sink)
            } catch {
                return nil
            }
            return String(decoding: sink.bytes(), as: UTF8.self)
        }
    }
    precondition(qsh == form, "the qsh and the routes decode a query component differently")
}

/// What the gateway forwards is what it decided on, and resolves to itself.
private func checkAccepted(_ line: RequestLine, target: String) {
    let forwarded = line.rawQuery.map { "\(line.rawPath)?\($0)" } ?? String(line.rawPath)
    precondition(forwarded == target, "the parsed target is not the target received")
    precondition(!line.rawPath.utf8.contains(UInt8(ascii: "\\")), "a backslash in an accepted path")
    guard let decoded = PercentDecoding.decodedBytes(line.rawPath.utf8, plusAsSpace: false) else {
        preconditionFailure("an accepted path with a malformed %")
    }
    for segment in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        let name = segment.prefix { $0 != UInt8(ascii: ";") }
        precondition(!name.elementsEqual([0x2E]) && !name.elementsEqual([0x2E, 0x2E]), "an accepted dot segment")
    }
}

private func checkJWTRemoval(_ rawQuery: Substring) {
    let removed = QueryParameters.removingJWT(from: rawQuery)
    guard let left = try? QueryParameters.jwtValues(in: removed) else {
        preconditionFailure("a query without jwt parameters has a malformed one")
    }
    precondition(left.isEmpty, "a jwt parameter survives its removal")
    if removed == rawQuery, let values = try? QueryParameters.jwtValues(in: rawQuery) {
        precondition(values.isEmpty, "a query with jwt parameters is returned unchanged")
    }
}
