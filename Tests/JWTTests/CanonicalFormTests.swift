@testable import JWT
import Testing

/// The byte-level canonical form must agree with the `Character`-based reference
/// code it replaced on the hot path, for any ASCII request.
@Suite("Canonical form bytes agree with the reference")
struct CanonicalFormTests {
    static let pieces = ["a", "A", "b1", "a10", "a1", "jwt", "=", "&", "&&", "+", "%20", "%2B", "%41", "%7E", "%e2%82%ac",
                         "%", "%4", "%zz", "%FF", "x=1", "~", "-._", "*", "/", "?", "%26", "%3D", ",", "é"]

    @Test("random queries give the reference's query and error")
    func queries() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let count = Int.random(in: 0...8, using: &generator)
            let query = (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let reference = Result { try CanonicalRequest.canonicalQuery(Substring(query)) }
            let bytes = Result { try CanonicalRequest(method: "get", rawPath: "/", rawQuery: query).query }
            switch (reference, bytes) {
            case (.success(let expected), .success(let actual)): #expect(actual == expected, "query \(query)")
            case (.failure(let expected as JWTError), .failure(let actual as JWTError)):
                #expect(actual.code == expected.code && actual.reason == expected.reason, "query \(query)")
            default: Issue.record("query \(query): \(reference) vs \(bytes)")
            }
        }
    }

    @Test("paths, base paths and methods give the reference's forms",
          arguments: ["", "/", "//", "a", "a/", "/jira", "/jira/", "/jiraX/a", "/jira/a&b/", "&", "/a%20b/c+d", "/é/"])
    func paths(_ path: String) throws {
        for base in ["", "/jira", "/"] {
            let canonical = try CanonicalRequest(method: "pAtch", rawPath: path, rawQuery: "", basePath: base)
            #expect(canonical.path == CanonicalRequest.canonicalPath(Substring(path), basePath: base), "\(path) under \(base)")
            #expect(canonical.method == "PATCH")
        }
    }
}
