import Testing

@testable import Scopes

@Suite struct ResourceTests {
    @Test(arguments: [
        ("global", Resource.global),
        ("project:PROJ", .item(type: "project", id: "PROJ")),
        ("project:*", .everyItem(type: "project")),
        ("space:a:b/c", .item(type: "space", id: "a:b/c")),
    ])
    func parses(text: String, expected: Resource) throws {
        let resource = try Resource(parsing: text)
        #expect(resource == expected)
        #expect(resource.description == text)
    }

    @Test(arguments: ["", "Global", "project", "project:", ":PROJ", "pro*ject:X", "{p}:X", "a b:c"])
    func refuses(text: String) {
        #expect(throws: ScopesError(.invalidResource)) { try Resource(parsing: text) }
    }
}

@Suite struct PermissionTableTests {
    let alice = ActingUser(accountId: "alice", groups: ["jira-users"])
    let bob = ActingUser(accountId: "bob", groups: ["jira-admins", "jira-users"])
    let carol = ActingUser(accountId: "carol")
    let table = PermissionTable([
        PermissionGrant(
            permission: "BROWSE_PROJECTS", resource: .everyItem(type: "project"), grantee: .group("jira-users")),
        PermissionGrant(
            permission: "EDIT_ISSUES", resource: .item(type: "project", id: "PROJ"), grantee: .user("alice")),
        PermissionGrant(permission: "ADMINISTER", resource: .global, grantee: .group("jira-admins")),
        PermissionGrant(permission: "VIEW_STATUS", resource: .item(type: "project", id: "PROJ"), grantee: .anyone),
        PermissionGrant(
            permission: "BROWSE_PROJECTS", resource: .item(type: "project", id: "PROJ"), grantee: .user("bob")),
    ])

    @Test func userGrantOnExactResource() {
        #expect(table.matches("EDIT_ISSUES", on: .item(type: "project", id: "PROJ"), for: alice).map(\.index) == [1])
        #expect(!table.holds("EDIT_ISSUES", on: .item(type: "project", id: "OTHER"), for: alice))
        #expect(!table.holds("EDIT_ISSUES", on: .item(type: "project", id: "PROJ"), for: bob))
    }

    @Test func groupGrantOnWildcardCoversEveryItem() {
        #expect(table.holds("BROWSE_PROJECTS", on: .item(type: "project", id: "ANY"), for: alice))
        #expect(!table.holds("BROWSE_PROJECTS", on: .item(type: "project", id: "ANY"), for: carol))
        #expect(!table.holds("BROWSE_PROJECTS", on: .item(type: "space", id: "ANY"), for: alice))
    }

    @Test func everyMatchingGrantIsReportedOnceInOrder() {
        let matches = table.matches("BROWSE_PROJECTS", on: .item(type: "project", id: "PROJ"), for: bob)
        #expect(matches.map(\.index) == [0, 4])
        let twice = ActingUser(accountId: "dave", groups: ["jira-users", "jira-users"])
        #expect(table.matches("BROWSE_PROJECTS", on: .item(type: "project", id: "X"), for: twice).count == 1)
    }

    @Test func anyoneGrantCoversEveryUser() {
        #expect(table.holds("VIEW_STATUS", on: .item(type: "project", id: "PROJ"), for: carol))
    }

    @Test func globalGrantCoversOnlyGlobal() {
        #expect(table.holds("ADMINISTER", on: .global, for: bob))
        #expect(!table.holds("ADMINISTER", on: .item(type: "project", id: "PROJ"), for: bob))
        #expect(!table.holds("ADMINISTER", on: .global, for: alice))
    }

    @Test func everyItemResourceNeedsAWildcardGrant() {
        #expect(table.holds("BROWSE_PROJECTS", on: .everyItem(type: "project"), for: alice))
        #expect(!table.holds("EDIT_ISSUES", on: .everyItem(type: "project"), for: alice))
    }

    @Test func permissionNamesAreCaseSensitive() {
        #expect(!table.holds("edit_issues", on: .item(type: "project", id: "PROJ"), for: alice))
    }

    /// Keys with many holders are searched by grantee number rather than
    /// scanned by name: both must give what a plain filter over the grants gives.
    @Test(arguments: [2, 8, 9, 40])
    func manyHoldersAgreeWithAPlainFilter(holders: Int) {
        let resources: [Resource] = [.item(type: "project", id: "PROJ"), .everyItem(type: "project")]
        var grants: [PermissionGrant] = []
        for k in 0..<holders {
            let grantee: Grantee = k % 7 == 6 ? .anyone : k % 2 == 0 ? .user("user-\(k % 5)") : .group("group-\(k % 6)")
            grants.append(PermissionGrant(permission: "BROWSE_PROJECTS", resource: resources[k % 2], grantee: grantee))
        }
        let table = PermissionTable(grants)
        let users = [
            ActingUser(accountId: "user-2", groups: ["group-1", "group-3", "group-1"]),
            ActingUser(accountId: "user-4"),
            ActingUser(accountId: "stranger", groups: ["group-5"]),
        ]
        for user in users {
            let expected = grants.indices.filter { position in
                let grant = grants[position]
                let covers = grant.resource == resources[0] || grant.resource == resources[1]
                switch grant.grantee {
                case .anyone: return covers
                case .user(let accountId): return covers && accountId == user.accountId
                case .group(let name): return covers && user.groups.contains(name)
                }
            }
            #expect(table.matches("BROWSE_PROJECTS", on: resources[0], for: user).map(\.index) == expected)
        }
    }
}

@Suite struct PermissionTableByteTests {
    @Test("a grant covers only the resource with the same bytes, never a canonically equivalent spelling")
    func bytesNotCanonicalEquivalence() {
        let user = ActingUser(accountId: "u")
        let precomposed = "caf\u{e9}"
        let decomposed = "cafe\u{301}"
        #expect(precomposed == decomposed, "Swift's String equality folds them")
        let table = PermissionTable([
            PermissionGrant(
                permission: "BROWSE_PROJECTS", resource: .item(type: "project", id: precomposed), grantee: .user("u")),
            PermissionGrant(permission: "EDIT_ISSUES", resource: .everyItem(type: "proj\u{e9}ct"), grantee: .user("u")),
        ])
        #expect(table.holds("BROWSE_PROJECTS", on: .item(type: "project", id: precomposed), for: user))
        #expect(!table.holds("BROWSE_PROJECTS", on: .item(type: "project", id: decomposed), for: user))
        #expect(table.holds("EDIT_ISSUES", on: .item(type: "proj\u{e9}ct", id: "X"), for: user))
        #expect(!table.holds("EDIT_ISSUES", on: .item(type: "proje\u{301}ct", id: "X"), for: user))
    }
}
