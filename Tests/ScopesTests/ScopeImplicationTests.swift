import Testing

@testable import Scopes

@Suite struct ScopeImplicationTests {
    let builtIn = ScopeImplication.builtIn

    @Test(arguments: [
        ("NONE", ["NONE"]),
        ("READ", ["READ", "NONE"]),
        ("WRITE", ["WRITE", "READ", "NONE"]),
        ("DELETE", ["DELETE", "WRITE", "READ", "NONE"]),
        ("PROJECT_ADMIN", ["PROJECT_ADMIN", "DELETE", "WRITE", "READ", "NONE"]),
        ("SPACE_ADMIN", ["SPACE_ADMIN", "DELETE", "WRITE", "READ", "NONE"]),
        ("ADMIN", ["ADMIN", "PROJECT_ADMIN", "SPACE_ADMIN", "DELETE", "WRITE", "READ", "NONE"]),
        ("ACT_AS_USER", ["ACT_AS_USER"]),
        ("ACCESS_EMAIL_ADDRESSES", ["ACCESS_EMAIL_ADDRESSES"]),
    ])
    func builtInClosures(scope: String, expected: [String]) {
        #expect(builtIn.closure(of: Scope(scope)) == ScopeSet(expected.map { Scope($0) }))
    }

    @Test func connectNamesAreCaseInsensitive() {
        #expect(Scope("read") == Scope("READ"))
        #expect(Scope("Project_Admin").name == "PROJECT_ADMIN")
        #expect(Scope("write").isConnectScope)
        #expect(builtIn.implies("admin", "read"))
    }

    @Test func otherNamesAreCaseSensitive() {
        #expect(Scope("read:jira-work") != Scope("READ:JIRA-WORK"))
        #expect(Scope("readme").name == "readme")
        #expect(!Scope("read:jira-work").isConnectScope)
    }

    @Test func unknownScopeImpliesOnlyItself() {
        #expect(builtIn.closure(of: Scope("offline_access")) == ["offline_access"])
        #expect(!builtIn.implies("READ", "WRITE"))
    }

    @Test func extraEdgesAreTransitiveAndJoinBuiltIns() throws {
        let implication = try ScopeImplication(implies: [
            "manage:jira-project": ["write:jira-work"],
            "write:jira-work": ["read:jira-work"],
            "read:jira-work": ["READ"],
        ])
        #expect(
            implication.closure(of: Scope("manage:jira-project"))
                == ["manage:jira-project", "write:jira-work", "read:jira-work", "READ", "NONE"])
        // Built-ins stay, and an extra edge from a built-in adds to them.
        #expect(implication.implies("ADMIN", "READ"))
    }

    @Test func closureOfASetIsTheUnion() {
        #expect(builtIn.closure(of: ["WRITE", "ACT_AS_USER"]) == ["WRITE", "READ", "NONE", "ACT_AS_USER"])
        #expect(builtIn.closure(of: ScopeSet.empty).isEmpty)
    }

    @Test func scopeSetParsesSpaceSeparatedLists() {
        let set = ScopeSet(parsing: " read  write:jira-work ")
        #expect(set == ["READ", "write:jira-work"])
        #expect(set.description == "READ write:jira-work")
    }

    @Test func selfLoopIsACycle() {
        #expect(throws: ScopesError(.implicationCycle)) { try ScopeImplication(implies: ["a": ["a"]]) }
        #expect(ScopeImplication.cycle(in: ["a": ["a"]]) == ["a", "a"])
    }

    @Test func cycleThroughBuiltInsIsReportedWithItsPath() {
        do {
            _ = try ScopeImplication(implies: ["read": ["ADMIN"]])
            Issue.record("expected a cycle")
        } catch {
            #expect(error.code == .implicationCycle)
            #expect(error.reason.contains("READ"))
            #expect(error.reason.contains("ADMIN"))
        }
    }

    @Test func cycleFinderReturnsAClosedPath() throws {
        let edges: [Scope: [Scope]] = ["a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]]
        let cycle = try #require(ScopeImplication.cycle(in: edges))
        #expect(cycle.first == cycle.last)
        #expect(Set(cycle) == ["a", "b", "c"])
        for (from, to) in zip(cycle, cycle.dropFirst()) { #expect(edges[from]!.contains(to)) }
    }

    @Test func diamondIsNotACycle() {
        #expect(ScopeImplication.cycle(in: ["a": ["b", "c"], "b": ["d"], "c": ["d"]]) == nil)
    }
}
