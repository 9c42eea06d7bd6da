import JWT
import Testing

struct QSHCase: Sendable, CustomTestStringConvertible {
    let method: String
    let target: String
    let canonical: String
    let qsh: String
    var testDescription: String { "\(method) \(target)" }

    static func load() -> [QSHCase] {
        Fixture.json("qsh-table.json")["cases"]!.arrayValue!.map { row in
            QSHCase(
                method: row["method"]!.stringValue!, target: row["target"]!.stringValue!,
                canonical: row["canonical"]!.stringValue!, qsh: row["qsh"]!.stringValue!)
        }
    }

    /// Splits `PATH?QUERY` at the first `?`.
    var pathAndQuery: (Substring, Substring) {
        guard let question = target.firstIndex(of: "?") else { return (Substring(target), "") }
        return (target[..<question], target[target.index(after: question)...])
    }
}

@Suite("Canonical request and qsh (docs/protocols.md §2)")
struct CanonicalRequestTests {
    @Test("SHA-256 sanity check from docs/protocols.md §2")
    func sha256OfFoo() {
        #expect(
            Hex.lowercase(Digest.sha256.hash(Array("foo".utf8)))
                == "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
    }

    @Test("every row of the docs/protocols.md §2 table", arguments: QSHCase.load())
    func table(_ row: QSHCase) throws {
        let (path, query) = row.pathAndQuery
        let canonical = try CanonicalRequest(method: row.method, rawPath: path, rawQuery: query)
        #expect(canonical.description == row.canonical)
        #expect(canonical.queryStringHash == row.qsh)
    }

    @Test("the table has all seventeen rows")
    func tableIsComplete() {
        #expect(QSHCase.load().count == 17)
    }

    @Test("removes the base path only on a segment boundary")
    func basePath() throws {
        #expect(CanonicalRequest.basePath(ofBaseURL: "https://h.example.com/jira/") == "/jira")
        #expect(CanonicalRequest.basePath(ofBaseURL: "https://h.example.com") == "")
        #expect(CanonicalRequest.basePath(ofBaseURL: "http://127.0.0.1:8080/") == "")
        let inside = try CanonicalRequest(method: "GET", rawPath: "/jira/rest/x", rawQuery: "", basePath: "/jira")
        #expect(inside.path == "/rest/x")
        let root = try CanonicalRequest(method: "GET", rawPath: "/jira", rawQuery: "", basePath: "/jira")
        #expect(root.path == "/")
        let other = try CanonicalRequest(method: "GET", rawPath: "/jiraX/rest", rawQuery: "", basePath: "/jira")
        #expect(other.path == "/jiraX/rest")
    }

    @Test("sorts names by encoded bytes: A < a, a1 < a10 < b1, a < a1")
    func nameOrder() throws {
        let canonical = try CanonicalRequest(method: "GET", rawPath: "/", rawQuery: "b1=x&a10=x&a1=x&a=x&A=x")
        #expect(canonical.query == "A=x&a=x&a1=x&a10=x&b1=x")
    }

    @Test("keeps the path's own encoding untouched")
    func pathNotReencoded() throws {
        let canonical = try CanonicalRequest(method: "GET", rawPath: "/a%20b/c+d", rawQuery: "")
        #expect(canonical.path == "/a%20b/c+d")
    }

    @Test(
        "refuses malformed percent-encoding and non-UTF-8 bytes", arguments: ["a=%", "a=%4", "a=%zz", "%g1=1", "a=%FF"])
    func badEncoding(_ query: String) {
        #expect(throws: JWTError(.invalidQueryEncoding)) {
            try CanonicalRequest(method: "GET", rawPath: "/", rawQuery: query)
        }
    }
}
