/// Every permission grant, indexed so one test is a few hash lookups whatever
/// the number of grants.
///
/// A test for permission P on a resource considers:
/// - `TYPE:ID`: grants on `TYPE:ID` and on `TYPE:*`;
/// - `TYPE:*`: grants on `TYPE:*` only (holding it on some items is not holding
///   it on all);
/// - `global`: grants on `global` only.
/// A `global` grant does not cover `TYPE:ID` resources: as in Jira, global
/// permissions are separate from project permissions, and a route that wants a
/// global permission says `"resource": "global"`.
public struct PermissionTable: Sendable {
    /// One grant that satisfied a test, with its position in the table's input
    /// (its index in `permissions.json` `grants`).
    public struct Match: Hashable, Sendable, CustomStringConvertible {
        public let index: Int
        public let grant: PermissionGrant
        public var description: String { "#\(index) \(grant)" }
    }

    /// The grants as given, in order.
    public let grants: [PermissionGrant]
    private let index: [Key: Holders]

    private struct Key: Hashable {
        let permission: String
        let resource: Resource
    }

    /// Who holds one permission on one resource, as positions in `grants`.
    private struct Holders {
        var users: [String: [Int]] = [:]
        var groups: [String: [Int]] = [:]
        var anyone: [Int] = []
    }

    /// Indexes `grants`; duplicates are kept (each shows in a trace).
    public init(_ grants: [PermissionGrant]) {
        self.grants = grants
        var index: [Key: Holders] = [:]
        for (position, grant) in grants.enumerated() {
            let key = Key(permission: grant.permission, resource: grant.resource)
            switch grant.grantee {
            case .user(let accountId): index[key, default: Holders()].users[accountId, default: []].append(position)
            case .group(let name): index[key, default: Holders()].groups[name, default: []].append(position)
            case .anyone: index[key, default: Holders()].anyone.append(position)
            }
        }
        self.index = index
    }

    /// The grants that give `user` `permission` on `resource`, in table order;
    /// empty when the user does not hold it.
    public func matches(_ permission: String, on resource: Resource, for user: ActingUser) -> [Match] {
        var positions: [Int] = []
        collect(Key(permission: permission, resource: resource), user, into: &positions)
        if case .item(let type, _) = resource {
            collect(Key(permission: permission, resource: .everyItem(type: type)), user, into: &positions)
        }
        if positions.isEmpty { return [] }
        positions.sort()
        var result: [Match] = []
        // A user listed twice in one group, or in two groups with the same grant,
        // must not show the grant twice.
        for position in positions where result.last?.index != position {
            result.append(Match(index: position, grant: grants[position]))
        }
        return result
    }

    /// Whether `user` holds `permission` on `resource`.
    public func holds(_ permission: String, on resource: Resource, for user: ActingUser) -> Bool {
        !matches(permission, on: resource, for: user).isEmpty
    }

    private func collect(_ key: Key, _ user: ActingUser, into positions: inout [Int]) {
        guard let holders = index[key] else { return }
        positions += holders.anyone
        positions += holders.users[user.accountId] ?? []
        for group in user.groups { positions += holders.groups[group] ?? [] }
    }
}
