import TestSupport
import Testing

@testable import Scopes

@Suite struct PathTemplateTests {
    @Test func parsesSegments() throws {
        let template = try PathTemplate("/rest/api/3/project/{projectKey}/{rest*}")
        #expect(
            template.segments == [
                .literal("rest"), .literal("api"), .literal("3"), .literal("project"),
                .parameter("projectKey"), .rest("rest"),
            ])
        #expect(template.parameterNames == ["projectKey", "rest"])
        #expect(try PathTemplate("/").segments == [.literal("")])
        #expect(try PathTemplate("/status/").segments == [.literal("status"), .literal("")])
    }

    @Test(arguments: [
        "", "status", "/a/{rest*}/b", "/a/{}", "/a/{x}y", "/a/x{y}", "/a/{x", "/a/x}", "/a/{x.y}",
        "/a/{x}/{x}", "/{*}",
    ])
    func refuses(text: String) {
        #expect(throws: ScopesError(.invalidPathTemplate)) { try PathTemplate(text) }
    }
}

@Suite struct ResourceTemplateTests {
    func resolve(
        _ template: String, _ parameters: [(String, Substring)] = [], query: Substring? = nil
    ) throws -> ResourceResolution {
        try ResourceTemplate(template).resolve(
            parameters: parameters.map { PathParameter(name: $0.0, rawValue: $0.1) }, rawQuery: query)
    }

    @Test func fixedResources() throws {
        #expect(try resolve("global") == .resolved(.global))
        #expect(try resolve("project:*") == .resolved(.everyItem(type: "project")))
        #expect(try resolve("project:PROJ") == .resolved(.item(type: "project", id: "PROJ")))
    }

    @Test func pathParameterIsPercentDecoded() throws {
        #expect(try resolve("project:{key}", [("key", "PR%4FJ")]) == .resolved(.item(type: "project", id: "PROJ")))
        #expect(try resolve("issue:{key}-x", [("key", "a+b")]) == .resolved(.item(type: "issue", id: "a+b-x")))
    }

    @Test func starFromThePathIsAnItemNotAWildcard() throws {
        #expect(try resolve("project:{key}", [("key", "*")]) == .resolved(.item(type: "project", id: "*")))
    }

    @Test func queryParameter() throws {
        let resolved = Resource.item(type: "project", id: "MY PROJ")
        #expect(try resolve("project:{query.projectKey}", query: "a=1&projectKey=MY+PROJ") == .resolved(resolved))
        #expect(try resolve("project:{query.projectKey}", query: "project%4Bey=MY%20PROJ") == .resolved(resolved))
        #expect(try resolve("project:{query.k}", query: "k=A&k=A") == .resolved(.item(type: "project", id: "A")))
    }

    /// Non-ASCII queries take the same byte path: names and values compare as bytes,
    /// so composed and decomposed é are two different values (the backend can tell).
    @Test func nonASCIIQueryParametersCompareAsBytes() throws {
        let composed = Resource.item(type: "project", id: "caf\u{E9}")
        #expect(try resolve("project:{query.k}", query: "k=caf\u{E9}&x=\u{E9}") == .resolved(composed))
        #expect(try resolve("project:{query.k}", query: "k=caf%C3%A9&k=caf\u{E9}") == .resolved(composed))
        #expect(
            try resolve("project:{query.caf\u{E9}}", query: "cafe%CC%81=A")
                != .resolved(.item(type: "project", id: "A")))
    }

    @Test(
        arguments: [
            nil, "", "other=1", "projectKey=", "projectKey", "projectKey=A&projectKey=B", "projectKey=%zz",
            "projectKey=caf%C3%A9&projectKey=cafe%CC%81",
            // Names other servers fold into projectKey make the request ambiguous, whatever their order.
            "projectKey=PROJ&ProjectKey=SECRET", "PROJECTKEY=SECRET&projectKey=PROJ",
            "projectKey=PROJ&+projectKey=SECRET",
            "projectKey=PROJ&projectKey[]=SECRET", "projectKey=PROJ&projectKey.=SECRET",
            "projectKey=PROJ&projectKey%00x=SECRET", "projectKey=PROJ;projectKey=SECRET",
        ] as [Substring?])
    func undeterminedQueryParameter(query: Substring?) throws {
        guard case .undetermined(let reason) = try resolve("project:{query.projectKey}", query: query) else {
            Issue.record("expected undetermined for \(String(describing: query))")
            return
        }
        #expect(reason.contains("projectKey"))
    }

    @Test func badlyEncodedPathParameterIsUndetermined() throws {
        #expect(try resolve("project:{key}", [("key", "%G1")]) != .resolved(.item(type: "project", id: "%G1")))
    }

    @Test(arguments: [
        "project:{key", "project:key}", "{t}:x", "project:{}", "project:{query.}", "project:{a b}", "nope",
    ])
    func refuses(text: String) {
        #expect(throws: ScopesError(.invalidResourceTemplate)) { try ResourceTemplate(text) }
    }
}

@Suite struct RouteRuleTests {
    @Test func canonicalisesMethods() throws {
        let rule = try RouteRule(index: 0, methods: ["get", "HEAD", "GET"], path: "/a", upstream: "u")
        #expect(rule.methods == ["GET", "HEAD"])
        #expect(rule.allows(method: "GET"))
        #expect(!rule.allows(method: "get"))
        #expect(rule.description == "#0 GET,HEAD /a → u")
    }

    @Test func resourceMustUseKnownPathParameters() {
        #expect(throws: ScopesError(.unknownPathParameter)) {
            try RouteRule(
                index: 4, methods: ["GET"], path: "/p/{key}", upstream: "u", permission: "P", resource: "project:{id}")
        }
        do {
            _ = try RouteRule(index: 4, methods: ["GET"], path: "/p/{", upstream: "u")
        } catch {
            #expect(error.ruleIndex == 4)
        }
    }

    @Test func invalidRules() {
        #expect(throws: ScopesError(.invalidRule)) { try RouteRule(index: 0, methods: [], path: "/a", upstream: "u") }
        #expect(throws: ScopesError(.invalidRule)) {
            try RouteRule(index: 0, methods: ["G T"], path: "/a", upstream: "u")
        }
        #expect(throws: ScopesError(.invalidRule)) {
            try RouteRule(index: 0, methods: ["GET"], path: "/a", upstream: "u", permission: "P")
        }
        #expect(throws: ScopesError(.invalidRule)) {
            try RouteRule(index: 0, methods: ["GET"], path: "/a", upstream: "u", resource: "global")
        }
        #expect(throws: ScopesError(.invalidRule)) {
            try RouteRule(
                index: 0, methods: ["GET"], path: "/a", upstream: "u", permission: "P", resource: "global",
                isPublic: true)
        }
    }
}

/// The fold of query names that makes look-alike parameters ambiguous has a fast
/// path for ASCII names (docs/policies.md §7); it must fold exactly as the
/// Unicode one does.
@Suite struct QueryNameFoldTests {
    /// Bytes that change a fold: case, whitespace (ASCII's and beyond), NUL, `[]`,
    /// dots, escapes and `+`, and characters whose lower case is ASCII.
    static let pieces = [
        "a", "K", "z", "Z", "0", "_", " ", "\t", "\n", "\u{0B}", "\u{0C}", "\r", "\0", "[", "]", "[]", ".", "..",
        "%", "%41", "%20", "%00", "+", "\u{A0}", "\u{85}", "\u{212A}", "\u{130}", "\u{E9}", "\u{3000}",
    ]

    @Test func asciiFoldMatchesTheUnicodeFold() {
        var random = SeededGenerator(seed: 0x5EED_F01D)
        for _ in 0..<20_000 {
            let name = (0..<Int(random.next() % 8)).map { _ in
                Self.pieces[Int(random.next() % UInt64(Self.pieces.count))]
            }
            .joined()
            #expect(ResourceTemplate.folded(name) == ResourceTemplate.unicodeFolded(name), "\(name.debugDescription)")
        }
    }

    @Test func keysFoldAlikeAsTheyDecode() {
        var random = SeededGenerator(seed: 0xF01D_5EED)
        for foldedName in ["projectkey", "k", "a.b"] {
            var alike = 0
            for _ in 0..<20_000 {
                let key = (0..<Int(random.next() % 6)).map { _ in
                    random.next() % 3 == 0
                        ? foldedName : Self.pieces[Int(random.next() % UInt64(Self.pieces.count))]
                }.joined()
                let bytes = Array(key.utf8)
                let decoded = bytes.withUnsafeBufferPointer { PercentDecoding.decode(bytes: $0, plusAsSpace: true) }
                let expected = decoded.map { ResourceTemplate.unicodeFolded($0) == foldedName } ?? false
                let folds = bytes.withUnsafeBufferPointer { ResourceTemplate.foldsAlike($0, foldedName) }
                #expect(folds == expected, "\(key.debugDescription)")
                if folds { alike += 1 }
            }
            #expect(alike > 200, "keys that fold to \(foldedName): \(alike) of 20,000")
        }
    }
}
