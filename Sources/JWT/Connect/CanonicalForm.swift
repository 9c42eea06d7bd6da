/// Builds `METHOD&PATH&QUERY` (PROTOCOLS §2) as bytes, in one buffer sized up
/// front, from the UTF-8 of the request: every Connect verification does this.
///
/// Methods, raw paths and raw queries are ASCII in practice (a client
/// percent-encodes the rest), and for ASCII, bytes and `Character`s coincide.
/// Text with other bytes goes through `CanonicalRequest`'s `Character`-based
/// reference code, so grapheme clusters such as `&` + U+0301 still split as before.
enum CanonicalForm {
    /// The request's parts as contiguous UTF-8.
    struct Input {
        var method: UnsafeBufferPointer<UInt8>
        var path: UnsafeBufferPointer<UInt8>
        var query: UnsafeBufferPointer<UInt8>
        var basePath: UnsafeBufferPointer<UInt8>
    }

    /// Where `method` and `path` end in the canonical bytes (each is followed by `&`).
    struct Layout {
        var methodEnd: Int
        var pathEnd: Int
    }

    /// Calls `body` with the canonical bytes of a request and their layout.
    static func withBytes<Result>(method: String, rawPath: Substring, rawQuery: Substring, basePath: String,
                                  _ body: (UnsafeBufferPointer<UInt8>, Layout) throws -> Result) throws -> Result {
        try withUTF8(Substring(method)) { methodBytes in
            try withUTF8(rawPath) { pathBytes in
                try withUTF8(rawQuery) { queryBytes in
                    try withUTF8(Substring(basePath)) { baseBytes in
                        let input = Input(method: methodBytes, path: pathBytes, query: queryBytes, basePath: baseBytes)
                        return try withBytes(input, body)
                    }
                }
            }
        }
    }

    private static func withBytes<Result>(_ input: Input, _ body: (UnsafeBufferPointer<UInt8>, Layout) throws -> Result) throws -> Result {
        let unicodeMethod = isASCII(input.method) ? nil : String(decoding: input.method, as: UTF8.self).uppercased()
        // Escaping triples a byte; a query item adds at most `=` and a separator per parameter.
        let capacity = (unicodeMethod?.utf8.count ?? input.method.count) + 3 * input.path.count + 5 * input.query.count + 8
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var sink = ByteSink(buffer)
            if let unicodeMethod {
                writeUTF8(unicodeMethod, into: &sink)
            } else {
                writeASCIIMethod(input.method, into: &sink)
            }
            let methodEnd = sink.count
            sink.append(UInt8(ascii: "&"))
            writePath(input.path, basePath: input.basePath, into: &sink)
            let pathEnd = sink.count
            sink.append(UInt8(ascii: "&"))
            try writeQuery(input.query, into: &sink)
            return try body(sink.bytes(), Layout(methodEnd: methodEnd, pathEnd: pathEnd))
        }
    }

    /// Upper case; methods are ASCII tokens, so `uppercased()` is only for anything else.
    private static func writeASCIIMethod(_ method: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) {
        for byte in method {
            sink.append(byte &- (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? 32 : 0))
        }
    }

    private static func writePath(_ rawPath: UnsafeBufferPointer<UInt8>, basePath: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) {
        guard isASCII(rawPath), isASCII(basePath) else {
            let path = CanonicalRequest.canonicalPath(Substring(String(decoding: rawPath, as: UTF8.self)),
                                                      basePath: String(decoding: basePath, as: UTF8.self))
            writeUTF8(path, into: &sink)
            return
        }
        var path = rawPath[...]
        // Only a whole leading segment run is the base path: `/jira` is not removed from `/jiraX`.
        if !basePath.isEmpty, path.starts(with: basePath) {
            let rest = path.dropFirst(basePath.count)
            if rest.first ?? UInt8(ascii: "/") == UInt8(ascii: "/") { path = rest }
        }
        let addsSlash = path.first != UInt8(ascii: "/")
        // Java removes exactly one trailing slash (Python removes them all): follow Java.
        if path.count + (addsSlash ? 1 : 0) > 1, path.last == UInt8(ascii: "/") { path = path.dropLast() }
        if addsSlash { sink.append(UInt8(ascii: "/")) }
        for byte in path {
            if byte == UInt8(ascii: "&") {
                sink.append(UInt8(ascii: "%"))
                sink.append(UInt8(ascii: "2"))
                sink.append(UInt8(ascii: "6"))
            } else {
                sink.append(byte)
            }
        }
    }

    private static func writeQuery(_ rawQuery: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) throws {
        guard isASCII(rawQuery) else {
            let query = try CanonicalRequest.canonicalQuery(Substring(String(decoding: rawQuery, as: UTF8.self)))
            writeUTF8(query, into: &sink)
            return
        }
        try CanonicalQuery.write(rawQuery, into: &sink)
    }

    private static func writeUTF8(_ text: String, into sink: inout ByteSink) {
        var text = text
        text.withUTF8 { sink.append($0) }
    }

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var all: UInt8 = 0
        for byte in bytes { all |= byte }
        return all & 0x80 == 0
    }

    /// The UTF-8 of `text`, copied only when the string is not stored contiguously.
    static func withUTF8<Result>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result {
        if let result = try text.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        return try Array(text.utf8).withUnsafeBufferPointer(body)
    }
}
