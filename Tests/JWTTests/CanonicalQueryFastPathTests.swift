import Testing

@testable import JWT

/// `CanonicalQuery.write` copies a query already in canonical form
/// (`writeIfCanonical`) and sorts any other (`writeSorted`): the copy must give
/// the sorted path's bytes exactly, and never accept a query the sorted path refuses.
@Suite("The canonical query's copy of a canonical query matches the sorted path")
struct CanonicalQueryFastPathTests {
    /// What a writer made of a query: its bytes or its error.
    enum Outcome: Equatable, CustomStringConvertible {
        case bytes([UInt8])
        case error(JWTError)
        /// `writeIfCanonical` declined the query.
        case declined

        var description: String {
            switch self {
            case .bytes(let bytes): "bytes(\(String(decoding: bytes, as: UTF8.self)))"
            case .error(let error): "error(\(error.code): \(error))"
            case .declined: "declined"
            }
        }
    }

    /// Runs a writer over `query` into a sink with bytes in front (as the canonical
    /// request has `METHOD&PATH&`), so a writer that declines must leave them alone.
    static func run(
        _ query: String, _ writer: (UnsafeBufferPointer<UInt8>, inout ByteSink) throws(JWTError) -> Bool
    ) -> Outcome {
        let raw = Array(query.utf8)
        let prefix = Array("GET&/&".utf8)
        return raw.withUnsafeBufferPointer { raw in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + 5 * raw.count + 8) { buffer in
                var sink = ByteSink(buffer)
                prefix.withUnsafeBufferPointer { sink.append($0) }
                do throws(JWTError) {
                    guard try writer(raw, &sink) else {
                        #expect(sink.count == prefix.count, "a declining writer left bytes for \(query)")
                        return .declined
                    }
                } catch {
                    return .error(error)
                }
                let written = Array(sink.bytes())
                #expect(Array(written[..<prefix.count]) == prefix, "the prefix was overwritten for \(query)")
                return .bytes(Array(written[prefix.count...]))
            }
        }
    }

    static func sorted(_ query: String) -> Outcome {
        run(query) { (raw, sink) throws(JWTError) in
            try CanonicalQuery.writeSorted(raw, into: &sink)
            return true
        }
    }

    static func copied(_ query: String) -> Outcome {
        run(query) { raw, sink in CanonicalQuery.writeIfCanonical(raw, into: &sink) }
    }

    static func written(_ query: String) -> Outcome {
        run(query) { (raw, sink) throws(JWTError) in
            try CanonicalQuery.write(raw, into: &sink)
            return true
        }
    }

    /// Checks one query and returns whether the copy took it.
    @discardableResult
    static func check(_ query: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let sorted = sorted(query)
        let copied = copied(query)
        // `write` (copy, else sort) gives the sorted path's bytes or its very error.
        #expect(written(query) == sorted, "query \(query)", sourceLocation: sourceLocation)
        guard copied != .declined else { return false }
        #expect(copied == sorted, "query \(query): copy \(copied), sorted \(sorted)", sourceLocation: sourceLocation)
        return true
    }

    @Test(
        "hand-picked queries the copy takes, with their canonical bytes",
        arguments: [
            ("", ""),
            ("&", ""),
            ("&&&", ""),
            ("a=1", "a=1"),
            ("a", "a="),
            ("a=", "a="),
            ("a&b=", "a=&b="),
            ("=x", "=x"),
            ("=", "="),
            ("=&a", "=&a="),
            ("&a=1&&b=2&", "a=1&b=2"),
            ("A=1&a=2", "A=1&a=2"),
            ("a=1&a1=2&a10=3&b1=4", "a=1&a1=2&a10=3&b1=4"),
            ("jql=project%20%3D%20PROJ&maxResults=50&startAt=0", "jql=project%20%3D%20PROJ&maxResults=50&startAt=0"),
            ("jwt=eyJhbGciOi.abc.def&x=1", "x=1"),
            ("x=1&jwt=eyJhbGciOi.abc.def&y=~tilde%2A", "x=1&y=~tilde%2A"),
            ("z=1&jwt=a&jwt=b", "z=1"),
            ("jwt", ""),
            ("jwt=", ""),
            ("JWT=abc&jwt=def", "JWT=abc"),
            ("jwt=x&jws=z&jwt1=y", "jws=z&jwt1=y"),
            ("%C3%A9=2&z=1", "%C3%A9=2&z=1"),
            ("name=%E2%82%AC%20caf%C3%A9", "name=%E2%82%AC%20caf%C3%A9"),
            ("%C3%BC=1&name=%F0%9F%98%80", "%C3%BC=1&name=%F0%9F%98%80"),
            ("list=b%2Ca", "list=b%2Ca"),
            ("v=%00", "v=%00"),
            ("~=%7F", "~=%7F"),
            ("%2B=%3D%26", "%2B=%3D%26"),
            // Runs of parameters copied at once, broken by gaps, `jwt` and missing `=`.
            ("a=1&b=2&jwt=x&c=3&d=4", "a=1&b=2&c=3&d=4"),
            ("jwt=x&a=1&b=2", "a=1&b=2"),
            ("a&b=1&c=2&d&e", "a=&b=1&c=2&d=&e="),
            ("a=1&&b=2&c", "a=1&b=2&c="),
            ("a=1&b=2&jwt", "a=1&b=2"),
        ])
    func copied(_ query: String, expected: String) {
        #expect(Self.copied(query) == .bytes(Array(expected.utf8)), "query \(query)")
        #expect(Self.check(query), "query \(query)")
    }

    @Test(
        "hand-picked queries the copy declines, which the sorted path answers",
        arguments: [
            // Not canonical bytes.
            "a=%7E", "a=%7e", "%41=1", "a=%2a", "a=%2A%2b", "a=b+c", "a+b=1", "a=b=c", "a==", "a=%20=",
            "a=é", "é=1", "a=b c", "a=*", "a=,", "a=;", "a;b=1", "a=/", "a=?", "a=:", "a=@", "a=!",
            // Malformed escapes and bytes that are not UTF-8: the sorted path's errors.
            "a=%", "a=%4", "a=%4&b=1", "a=%zz", "a=%G0", "%=1", "a=%C3", "a=%A9", "%C3=%A9", "a=%C3%28",
            "a=%C0%80", "a=%E0%80%80", "a=%ED%A0%80", "a=%F4%90%80%80", "a=%F5%80%80%80", "a=%FF",
            "a=%E2%82", "a=%E2%82x", "a=%F0%9F%98", "a=%c3%a9",
            // A malformed or non-canonical `jwt` is still checked.
            "jwt=%", "jwt=%C3", "jwt=a+b&a=1", "jw%74=1&a=2", "jwt=%zz&a=1", "a=1&jwt=x=y",
            // Order: repeated names, ties broken by value, names out of order.
            "a=1&a=1", "a=2&a=1", "a=1&a=2", "a&a", "a=&a", "=&=", "=x&=y", "b=1&a=2", "a10=1&a1=2",
            "a=1&A=2", "z=1&%C3%A9=2", "b=2&a=3&a=1&a=10&A=x", "a=1&jwt=x&a=2", "b&a", "jwt=x&jwt1=y&jws=z",
        ])
    func declined(_ query: String) {
        #expect(Self.copied(query) == .declined, "query \(query)")
        Self.check(query)
    }

    /// Bytes that queries are made of: unreserved and reserved characters, escapes
    /// in both cases, escapes of unreserved bytes, multi-byte UTF-8 (whole, cut or
    /// invalid), malformed escapes, raw non-ASCII.
    static let valuePieces = [
        "a", "b", "z", "A", "Z", "0", "1", "9", "-", ".", "_", "~", "%", "%4", "%41", "%7E", "%7e", "%2A", "%2a",
        "%20", "%2B", "%2b", "%3D", "%3d", "%26", "%2C", "%25", "%00", "%7F", "%5F", "%2D", "%2E", "+", "=", ";",
        ",", "*", "/", "?", ":", "@", "!", "$", "'", "(", ")", "[", "]", "%C3%A9", "%C3%a9", "%c3%a9",
        "%E2%82%AC", "%F0%9F%98%80", "%C3", "%A9", "%E2%82", "%ED%A0%80", "%ED%9F%BF", "%EE%80%80",
        "%C0%80", "%C1%BF", "%C2%80", "%DF%BF", "%E0%A0%80", "%E0%9F%BF", "%F0%90%80%80", "%F0%8F%BF%BF",
        "%F4%8F%BF%BF", "%F4%90%80%80", "%F5%80%80%80", "%FF", "%80", "%BF", "%zz", "%G1", "%1", "é", "€",
        "A", "F", "f", "g", "4", "C",
    ]

    static let namePieces = [
        "", "a", "a1", "a10", "b", "b1", "A", "B", "jwt", "JWT", "jw", "jwt1", "jw%74", "j%77t", "%6Awt", "~",
        "%7E", "%20", "%2B", "%C3%A9", "%C3%BC", "%E2%82%AC", "z", "Z", "_", "-", ".", "0", "%", "%C3", "+",
        "a+b", "x%3D", "%3D", "%26",
    ]

    static func randomComponent(
        _ pieces: [String], maxPieces: Int, using generator: inout some RandomNumberGenerator
    ) -> String {
        (0..<Int.random(in: 0...maxPieces, using: &generator)).map { _ in
            pieces.randomElement(using: &generator)!
        }.joined()
    }

    /// A random query: parameters made of the pieces above, often sorted by their
    /// raw names (so that many take the copy), with empty parameters, names
    /// without `=`, repeated names and `jwt` among them.
    static func randomQuery(using generator: inout some RandomNumberGenerator) -> String {
        let simple = Bool.random(using: &generator)
        let valueSource = simple ? valuePieces.filter { !$0.contains("%") || $0.count == 3 } : valuePieces
        var parameters: [(name: String, rest: String)] = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
            let name =
                Int.random(in: 0..<4, using: &generator) == 0
                ? randomComponent(valuePieces, maxPieces: 3, using: &generator)
                : namePieces.randomElement(using: &generator)!
            let rest: String
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: rest = ""
            case 1: rest = "="
            default: rest = "=" + randomComponent(valueSource, maxPieces: 5, using: &generator)
            }
            return (name, rest)
        }
        if Int.random(in: 0..<3, using: &generator) > 0 {
            parameters.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        }
        var query = ""
        for (index, parameter) in parameters.enumerated() {
            if index > 0 { query += Int.random(in: 0..<10, using: &generator) == 0 ? "&&" : "&" }
            query += parameter.name + parameter.rest
        }
        if Int.random(in: 0..<10, using: &generator) == 0 { query = "&" + query }
        if Int.random(in: 0..<10, using: &generator) == 0 { query += "&" }
        return query
    }

    @Test("random queries: the copy gives the sorted path's bytes, write gives its bytes or error")
    func randomQueries() {
        var generator = SystemRandomNumberGenerator()
        var copiedCount = 0
        var copiedNonEmpty = 0
        let total = 40_000
        for _ in 0..<total {
            let query = Self.randomQuery(using: &generator)
            if Self.check(query) {
                copiedCount += 1
                if query.contains("=") { copiedNonEmpty += 1 }
            }
        }
        // The copy must be exercised, not merely declined.
        #expect(copiedCount > total / 10, "only \(copiedCount) of \(total) queries took the copy")
        #expect(copiedNonEmpty > total / 40, "only \(copiedNonEmpty) of \(total) queries with values took the copy")
    }

    @Test("every short query over a small alphabet")
    func exhaustiveShortQueries() {
        let alphabet = ["a", "b", "j", "w", "t", "%", "4", "1", "C", "c", "=", "&", "+", "~"]
        var queries = [""]
        var frontier = [""]
        for _ in 0..<4 {
            frontier = frontier.flatMap { prefix in alphabet.map { prefix + $0 } }
            queries += frontier
        }
        var copiedCount = 0
        for query in queries where Self.check(query) { copiedCount += 1 }
        #expect(copiedCount > 1000)
    }

    @Test("every escape byte, alone and after a lead byte, in names and values")
    func everyEscape() {
        for byte in 0...255 {
            let hex = String(byte, radix: 16, uppercase: true)
            let escape = "%" + (byte < 16 ? "0" : "") + hex
            let lower = escape.lowercased()
            for component in [
                escape, lower, "%C3" + escape, "%E2%82" + escape, "%E0" + escape + "%80",
                "%ED" + escape + "%80", "%F0" + escape + "%80%80", "%F4" + escape + "%80%80", escape + "%80",
                escape + "%80%80", escape + "%80%80%80",
            ] {
                Self.check("a=" + component)
                Self.check(component + "=1")
                Self.check(component)
                Self.check("jwt=" + component + "&b=1")
            }
        }
    }
}
