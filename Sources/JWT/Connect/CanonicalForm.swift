/// Builds `METHOD&PATH&QUERY` (docs/protocols.md §2) as bytes, in one buffer sized up
/// front, from the UTF-8 of the request: every Connect verification does this.
///
/// It works on bytes, as the reference implementations do: `&`, `=`, `/` are
/// split and compared as bytes, never as `Character`s, so a combining mark after
/// `&` cannot hide a separator, and UTF-8 byte order is code point order.
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
    ///
    /// One scratch allocation holds a copy of the request's parts, then the
    /// canonical bytes: copying some dozens of bytes costs less than a closure per
    /// part, each of which retained the strings the next ones read.
    static func withBytes<Result>(
        method: String, rawPath: Substring, rawQuery: Substring, basePath: String,
        _ body: (UnsafeBufferPointer<UInt8>, Layout) throws(JWTError) -> Result
    ) throws(JWTError) -> Result {
        let methodCount = method.utf8.count
        let pathCount = rawPath.utf8.count
        let queryCount = rawQuery.utf8.count
        let partsCount = methodCount + pathCount + queryCount + basePath.utf8.count
        // Escaping triples a byte; a query item adds at most `=` and a separator per parameter.
        let capacity = methodCount + 3 * pathCount + 5 * queryCount + 8
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: partsCount + capacity) {
            (scratch) throws(JWTError) -> Result in
            var parts = ByteSink(UnsafeMutableBufferPointer(rebasing: scratch[..<partsCount]))
            let input = Input(
                method: parts.copy(method.utf8), path: parts.copy(rawPath.utf8), query: parts.copy(rawQuery.utf8),
                basePath: parts.copy(basePath.utf8))
            var sink = ByteSink(UnsafeMutableBufferPointer(rebasing: scratch[partsCount...]))
            writeMethod(input.method, into: &sink)
            let methodEnd = sink.count
            sink.append(UInt8(ascii: "&"))
            writePath(input.path, basePath: input.basePath, into: &sink)
            let pathEnd = sink.count
            sink.append(UInt8(ascii: "&"))
            try CanonicalQuery.write(input.query, into: &sink)
            return try body(sink.bytes(), Layout(methodEnd: methodEnd, pathEnd: pathEnd))
        }
    }

    /// Upper case. Methods are HTTP tokens, which are ASCII; other bytes are kept.
    private static func writeMethod(_ method: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) {
        for byte in method {
            sink.append(byte &- (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? 32 : 0))
        }
    }

    private static func writePath(
        _ rawPath: UnsafeBufferPointer<UInt8>, basePath: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink
    ) {
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

    /// The UTF-8 of `text`, copied only when the string is not stored contiguously.
    static func withUTF8<Result>(
        _ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(JWTError) -> Result
    ) throws(JWTError) -> Result {
        try text.utf8.withContiguousBytes(body)
    }
}
