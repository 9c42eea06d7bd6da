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

    @Test("a pinned header is exactly what parsing its segment gives, and is never parsed again")
    func pinnedMatchesParsing() throws {
        let cache = JWSHeaderCache(capacity: 2, pinned: JWSHeaderCache.pinnedHeaders)
        for json in JWSHeaderCache.pinnedHeaders {
            let bytes = segment(json)
            let parsed = try bytes.withUnsafeBufferPointer { (buffer) throws(JWTError) in try JWSHeader(segment: buffer)
            }
            var parses = 0
            let pinned = try bytes.withUnsafeBufferPointer { buffer in
                try cache.header(for: buffer) { () throws(JWTError) in
                    parses += 1
                    return try JWSHeader(segment: buffer)
                }
            }
            #expect(parses == 0, "\(json)")
            #expect(pinned.fields == parsed.fields, "\(json)")
            #expect(pinned.algorithm == parsed.algorithm && pinned.keyID == parsed.keyID && pinned.type == parsed.type)
            let selector = try bytes.withUnsafeBufferPointer { buffer in
                try cache.keySelector(for: buffer) { () throws(JWTError) in
                    parses += 1
                    return try JWSHeader(segment: buffer)
                }
            }
            #expect(parses == 0 && selector.algorithm == parsed.algorithm && selector.keyID == parsed.keyID)
        }
    }

    @Test("the key selector of a header that is not pinned is its parsed alg and kid")
    func selectorOfUnpinned() throws {
        let cache = JWSHeaderCache(capacity: 2, pinned: JWSHeaderCache.pinnedHeaders)
        let json = #"{"alg":"HS384","kid":"app-key-7","typ":"JWT"}"#
        var parses = 0
        for _ in 0..<2 {
            let selector = try segment(json).withUnsafeBufferPointer { buffer in
                try cache.keySelector(for: buffer) { () throws(JWTError) in
                    parses += 1
                    return try JWSHeader(segment: buffer)
                }
            }
            #expect(selector.algorithm == .hs384 && selector.keyID == "app-key-7")
        }
        #expect(parses == 1)
    }

    @Test("a segment one byte away from a pinned header is parsed, not taken as pinned")
    func nearPinnedIsParsed() throws {
        let cache = JWSHeaderCache(capacity: 2, pinned: [#"{"alg":"HS256","typ":"JWT"}"#])
        let pinned = segment(#"{"alg":"HS256","typ":"JWT"}"#)
        var variants: [[UInt8]] = [Array(pinned.dropLast()), pinned + Array("A".utf8)]
        for position in pinned.indices {
            var changed = pinned
            changed[position] = changed[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            variants.append(changed)
        }
        for variant in variants {
            var parses = 0
            _ = try? variant.withUnsafeBufferPointer { (buffer) throws(JWTError) in
                try cache.header(for: buffer) { () throws(JWTError) in
                    parses += 1
                    return try JWSHeader(segment: buffer)
                }
            }
            #expect(parses == 1, "\(String(decoding: variant, as: UTF8.self))")
        }
    }

    @Test("the shared cache answers pinned headers as a token would be parsed")
    func sharedPinned() throws {
        for json in JWSHeaderCache.pinnedHeaders {
            let header = try segment(json).withUnsafeBufferPointer { buffer in
                try JWSHeaderCache.shared.header(for: buffer) { () throws(JWTError) in
                    Issue.record("a pinned header was parsed: \(json)")
                    return try JWSHeader(segment: buffer)
                }
            }
            #expect(header.fields == (try JSONValue.parse(json).objectValue!), "\(json)")
            #expect(header.algorithm == .hs256)
        }
    }
}
