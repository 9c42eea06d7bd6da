import Testing

@testable import Scopes

@Suite struct RouteTableTests {
    static func rule(_ index: Int, _ methods: [String], _ path: String) -> RouteRule {
        try! RouteRule(index: index, methods: methods, path: path, upstream: "u")
    }

    let table = try! RouteTable([
        rule(0, ["GET"], "/project/{key}"),
        rule(1, ["GET"], "/project/search"),
        rule(2, ["GET"], "/project/{key}/{rest*}"),
        rule(3, ["GET"], "/{all*}"),
        rule(4, ["PUT"], "/project/special"),
        rule(5, ["GET"], "/static/{file*}"),
        rule(6, ["GET"], "/static"),
        rule(7, ["GET"], "/status/"),
        rule(8, ["GET"], "/project/{key}/issue"),
    ])

    func matched(_ method: String, _ path: Substring) -> Int? {
        table.match(method: method, path: path)?.rule.index
    }

    @Test(arguments: [
        ("GET", "/project/search", 1),  // literal beats parameter
        ("GET", "/project/PROJ", 0),
        ("GET", "/project/PROJ/issue", 8),  // literal beats rest
        ("GET", "/project/PROJ/other/x", 2),
        ("GET", "/project/PROJ/", 2),  // an empty segment is the rest, not {key}'s end
        ("GET", "/project/special", 0),  // PUT-only literal is passed over for the GET parameter
        ("PUT", "/project/special", 4),
        ("GET", "/project", 3),
        ("GET", "/project/", 3),  // {key} needs a non-empty segment
        ("GET", "/static", 6),  // exact end beats an empty rest
        ("GET", "/static/", 5),
        ("GET", "/static/css/a.css", 5),
        ("GET", "/status/", 7),
        ("GET", "/status", 3),
        ("GET", "/", 3),
    ])
    func precedence(method: String, path: String, expected: Int) {
        #expect(matched(method, path[...]) == expected)
    }

    @Test func methodMismatchIsARouteMiss() {
        #expect(matched("DELETE", "/project/PROJ") == nil)
        #expect(matched("get", "/project/PROJ") == nil)
    }

    @Test func pathWithoutLeadingSlashMatchesNothing() {
        #expect(matched("GET", "") == nil)
        #expect(matched("GET", "project/PROJ") == nil)
    }

    @Test func capturesRawSegments() throws {
        let match = try #require(table.match(method: "GET", path: "/project/PR%2FOJ/a/b%20c"))
        #expect(match.rule.index == 2)
        #expect(match[parameter: "key"] == "PR%2FOJ")
        #expect(match[parameter: "rest"] == "a/b%20c")
        #expect(match.parameters.map(\.value) == ["PR/OJ", "a/b c"])
        #expect(table.match(method: "GET", path: "/static")?.parameters.isEmpty == true)
        #expect(table.match(method: "GET", path: "/static/")?[parameter: "file"] == "")
    }

    /// Literals compare as bytes, the bytes the backend will receive: a
    /// canonically equivalent spelling (decomposed é, U+037E for `;`) is another path.
    @Test func literalsCompareAsBytes() throws {
        let table = try RouteTable([
            Self.rule(0, ["GET"], "/caf\u{E9}/{id}"),
            Self.rule(1, ["GET"], "/a;b"),
            Self.rule(2, ["GET"], "/plain"),
            Self.rule(3, ["GET"], "/cafe\u{301}/{id}"),
        ])
        #expect(table.match(method: "GET", path: "/cafe\u{301}/x")?.rule.index == 3)
        #expect(table.match(method: "GET", path: "/caf\u{E9}/x")?[parameter: "id"] == "x")
        #expect(table.match(method: "GET", path: "/caf\u{E9}/x")?.rule.index == 0)
        #expect(table.match(method: "GET", path: "/a\u{37E}b") == nil)
        #expect(table.match(method: "GET", path: "/a;b")?.rule.index == 1)
        #expect(table.match(method: "GET", path: "/plain")?.rule.index == 2)
        #expect(table.match(method: "GET", path: "/plaiN") == nil)
    }

    @Test func uncommonMethodsCompareByName() throws {
        let table = try RouteTable([Self.rule(0, ["PROPFIND", "GET"], "/dav"), Self.rule(1, ["REPORT"], "/dav/{x}")])
        #expect(table.match(method: "PROPFIND", path: "/dav")?.rule.index == 0)
        #expect(table.match(method: "GET", path: "/dav")?.rule.index == 0)
        #expect(table.match(method: "MKCOL", path: "/dav") == nil)
        #expect(table.match(method: "REPORT", path: "/dav/y")?.rule.index == 1)
        #expect(table.match(method: "POST", path: "/dav/y") == nil)
    }

    @Test func tiesAreReportedWithTheLaterRule() {
        let problems = RouteTable.problems(in: [
            Self.rule(0, ["GET", "PUT"], "/project/{key}"),
            Self.rule(1, ["PUT"], "/project/{id}"),
            Self.rule(2, ["POST"], "/project/{x}"),
            Self.rule(3, ["GET"], "/a/{r*}"),
            Self.rule(4, ["GET"], "/a/{s*}"),
        ])
        #expect(problems.map(\.code) == [.routeTie, .routeTie])
        #expect(problems.map(\.ruleIndex) == [1, 4])
        #expect(problems[0].reason.contains("#0"))
        #expect(throws: ScopesError(.routeTie)) {
            try RouteTable([Self.rule(0, ["GET"], "/a"), Self.rule(1, ["GET"], "/a")])
        }
    }

    @Test func differentShapesDoNotTie() {
        #expect(
            RouteTable.problems(in: [
                Self.rule(0, ["GET"], "/a/{x}"), Self.rule(1, ["GET"], "/a/b"), Self.rule(2, ["GET"], "/a/{r*}"),
                Self.rule(3, ["GET"], "/a"), Self.rule(4, ["GET"], "/a/"),
            ]).isEmpty)
    }

    @Test func emptyTableMatchesNothing() throws {
        #expect(try RouteTable([]).match(method: "GET", path: "/") == nil)
    }
}
