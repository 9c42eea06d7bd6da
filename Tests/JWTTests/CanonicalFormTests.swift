import JWT
import Testing

/// docs/protocols.md §2 written plainly over byte arrays, as an oracle for the
/// buffer-based canonicaliser on the hot path.
enum ReferenceCanonical {
    static func query(_ raw: String) throws -> String {
        var valuesByName: [[UInt8]: [[UInt8]]] = [:]
        for parameter in Array(raw.utf8).split(separator: UInt8(ascii: "&")) {
            let equals = parameter.firstIndex(of: UInt8(ascii: "="))
            let name = try decode(parameter[..<(equals ?? parameter.endIndex)])
            let value = try equals.map { try decode(parameter[($0 + 1)...]) } ?? []
            if name == Array("jwt".utf8) { continue }
            valuesByName[name, default: []].append(value)
        }
        let items = valuesByName.map { name, values in
            (name: encode(name), values: values.sorted { $0.lexicographicallyPrecedes($1) }.map(encode))
        }.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        return items.map { "\($0.name)=\($0.values.joined(separator: ","))" }.joined(separator: "&")
    }

    static func path(_ raw: String, basePath: String) -> String {
        var path = Array(raw.utf8)
        let base = Array(basePath.utf8)
        if !base.isEmpty, path.starts(with: base), path.count == base.count || path[base.count] == UInt8(ascii: "/") {
            path.removeFirst(base.count)
        }
        if path.first != UInt8(ascii: "/") { path.insert(UInt8(ascii: "/"), at: 0) }
        if path.count > 1, path.last == UInt8(ascii: "/") { path.removeLast() }
        return String(decoding: path, as: UTF8.self).split(separator: "&", omittingEmptySubsequences: false)
            .joined(separator: "%26")
    }

    private static func decode(_ component: ArraySlice<UInt8>) throws -> [UInt8] {
        var output: [UInt8] = []
        var index = component.startIndex
        while index < component.endIndex {
            switch component[index] {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let hex = index + 2 < component.endIndex ? component[(index + 1)...(index + 2)] : []
                // Two hex digits exactly: `UInt8(_:radix:)` alone would take a sign, as in "%+A".
                guard hex.count == 2, hex.allSatisfy({ Character(UnicodeScalar($0)).isHexDigit }),
                    let byte = UInt8(String(decoding: hex, as: UTF8.self), radix: 16)
                else { throw JWTError(.invalidQueryEncoding) }
                output.append(byte)
                index += 2
            case let byte:
                output.append(byte)
            }
            index += 1
        }
        guard String(validating: output, as: UTF8.self) != nil else { throw JWTError(.invalidQueryEncoding) }
        return output
    }

    private static func encode(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let unreserved =
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || "-._~".utf8.contains(byte)
            return unreserved
                ? String(UnicodeScalar(byte)) : "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }.joined()
    }
}

@Suite("Canonical form bytes agree with a plain reference")
struct CanonicalFormTests {
    static let pieces = [
        "a", "A", "b1", "a10", "a1", "jwt", "=", "&", "&&", "+", "%20", "%2B", "%41", "%7E", "%e2%82%ac",
        "%", "%4", "%zz", "%FF", "x=1", "~", "-._", "*", "/", "?", "%26", "%3D", ",", "é", "\u{301}", "€",
    ]

    @Test("random queries give the reference's query, or its error code")
    func queries() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let count = Int.random(in: 0...8, using: &generator)
            let query = (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let reference = Result { try ReferenceCanonical.query(query) }
            let bytes = Result { try CanonicalRequest(method: "get", rawPath: "/", rawQuery: query).query }
            switch (reference, bytes) {
            case (.success(let expected), .success(let actual)): #expect(actual == expected, "query \(query)")
            case (.failure(let expected as JWTError), .failure(let actual as JWTError)):
                #expect(actual.code == expected.code, "query \(query)")
            default: Issue.record("query \(query): \(reference) vs \(bytes)")
            }
        }
    }

    @Test("a combining mark after '&' does not hide the separator: it is split as a byte, as Java and Python do")
    func combiningMarkAfterAmpersand() throws {
        let canonical = try CanonicalRequest(method: "GET", rawPath: "/p&\u{301}q", rawQuery: "a=1&\u{301}b=2")
        #expect(canonical.query == "%CC%81b=2&a=1")
        #expect(canonical.path == "/p%26\u{301}q")
    }

    @Test(
        "paths, base paths and methods give the reference's forms",
        arguments: [
            "", "/", "//", "a", "a/", "/jira", "/jira/", "/jiraX/a", "/jira/a&b/", "&", "/a%20b/c+d", "/é/",
            "/jira\u{301}/x",
        ])
    func paths(_ path: String) throws {
        for base in ["", "/jira", "/"] {
            let canonical = try CanonicalRequest(method: "pAtch", rawPath: path, rawQuery: "", basePath: base)
            #expect(canonical.path == ReferenceCanonical.path(path, basePath: base), "\(path) under \(base)")
            #expect(canonical.method == "PATCH")
        }
    }
}
