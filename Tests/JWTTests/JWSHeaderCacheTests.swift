import Testing

@testable import JWT

@Suite("Header cache")
struct JWSHeaderCacheTests {
    func segment(_ text: String) -> [UInt8] { Array(Base64URL.encode(Array(text.utf8)).utf8) }

    @Test("a header is parsed once per distinct segment, and refused headers are never kept")
    func parsesOncePerSegment() throws {
        let cache = JWSHeaderCache(capacity: 4)
        let bytes = segment(#"{"alg":"HS256","typ":"JWT"}"#)
        var parses = 0
        for _ in 0..<3 {
            let header = try bytes.withUnsafeBufferPointer { buffer in
                try cache.header(for: buffer) { () throws(JWTError) in
                    parses += 1
                    return try JWSHeader(JSONValue.parse(#"{"alg":"HS256","typ":"JWT"}"#).objectValue!)
                }
            }
            #expect(header.algorithm == .hs256)
        }
        #expect(parses == 1)

        var refusals = 0
        for _ in 0..<2 {
            #expect(throws: JWTError(.algorithmNone)) {
                try segment(#"{"alg":"none"}"#).withUnsafeBufferPointer { buffer in
                    try cache.header(for: buffer) { () throws(JWTError) in
                        refusals += 1
                        return try JWSHeader(JSONValue.parse(#"{"alg":"none"}"#).objectValue!)
                    }
                }
            }
        }
        #expect(refusals == 2)
    }

    @Test("the cache never holds more than its capacity")
    func bounded() throws {
        let cache = JWSHeaderCache(capacity: 2)
        var parses = 0
        for _ in 0..<2 {
            for kid in ["a", "b", "c"] {
                _ = try segment(#"{"alg":"HS256","kid":"\#(kid)"}"#).withUnsafeBufferPointer { buffer in
                    try cache.header(for: buffer) { () throws(JWTError) in
                        parses += 1
                        return try JWSHeader(JSONValue.parse(#"{"alg":"HS256","kid":"\#(kid)"}"#).objectValue!)
                    }
                }
            }
        }
        // Three distinct headers through two slots: the third empties the cache each round.
        #expect(parses > 3)
    }
}
