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
    public var grants: [PermissionGrant] { storage.grants }
    /// Everything behind one reference: a decision copies the table into its
    /// permission check, and one retain is cheaper than five.
    private let storage: Storage

    private final class Storage: Sendable {
        let grants: [PermissionGrant]
        /// Per permission and resource, who holds it, sorted by grantee then position.
        let index: [Key: [Holding]]
        /// Account ids and group names, numbered from 1 in two ranges that do not
        /// overlap; 0 is `anyone`. A test hashes the user's names once, not once
        /// per resource it looks at.
        let userNumbers: [String: Int32]
        let groupNumbers: [String: Int32]
        /// The names by number (`""` for `anyone`), for keys with few holders:
        /// comparing a handful of names costs less than hashing the user's.
        let granteeNames: [String]

        init(grants: [PermissionGrant], index: [Key: [Holding]], userNumbers: [String: Int32], groupNumbers: [String: Int32]) {
            self.grants = grants
            self.index = index
            self.userNumbers = userNumbers
            self.groupNumbers = groupNumbers
            var names = Array(repeating: "", count: userNumbers.count + groupNumbers.count + 1)
            for (name, number) in userNumbers { names[Int(number)] = name }
            for (name, number) in groupNumbers { names[Int(number)] = name }
            self.granteeNames = names
        }
    }

    private static let scanLimit = 8

    private struct Key: Hashable {
        let permission: String
        let resource: Resource
    }

    /// One grant on a key: its grantee's number and its position in `grants`.
    private struct Holding: Sendable {
        var grantee: Int32
        var position: Int32
    }

    /// Indexes `grants`; duplicates are kept (each shows in a trace).
    public init(_ grants: [PermissionGrant]) {
        var users: [String: Int32] = [:]
        var groups: [String: Int32] = [:]
        for grant in grants {
            if case .user(let accountId) = grant.grantee, users[accountId] == nil { users[accountId] = Int32(users.count + 1) }
        }
        for grant in grants {
            if case .group(let name) = grant.grantee, groups[name] == nil { groups[name] = Int32(users.count + groups.count + 1) }
        }
        var index: [Key: [Holding]] = [:]
        for (position, grant) in grants.enumerated() {
            let grantee: Int32 =
                switch grant.grantee {
                case .anyone: 0
                case .user(let accountId): users[accountId]!
                case .group(let name): groups[name]!
                }
            index[Key(permission: grant.permission, resource: grant.resource), default: []]
                .append(Holding(grantee: grantee, position: Int32(position)))
        }
        // Positions are already ascending within a grantee: a stable sort keeps them so.
        let sorted = index.mapValues { holdings in
            holdings.enumerated().sorted { ($0.element.grantee, $0.offset) < ($1.element.grantee, $1.offset) }.map(\.element)
        }
        storage = Storage(grants: grants, index: sorted, userNumbers: users, groupNumbers: groups)
    }

    /// The grants that give `user` `permission` on `resource`, in table order;
    /// empty when the user does not hold it.
    public func matches(_ permission: String, on resource: Resource, for user: ActingUser) -> [Match] {
        let exact = storage.index[Key(permission: permission, resource: resource)]
        var everyItem: [Holding]?
        if case .item(let type, _) = resource { everyItem = storage.index[Key(permission: permission, resource: .everyItem(type: type))] }
        if exact == nil, everyItem == nil { return [] }
        var result: [Match] = []
        if exact?.count ?? 0 <= PermissionTable.scanLimit, everyItem?.count ?? 0 <= PermissionTable.scanLimit {
            scan(exact, user, into: &result)
            scan(everyItem, user, into: &result)
        } else {
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: user.groups.count + 2) { numbers in
                numbers[0] = 0  // anyone
                var count = 1
                if let number = storage.userNumbers[user.accountId] {
                    numbers[count] = number
                    count += 1
                }
                for group in user.groups {
                    guard let number = storage.groupNumbers[group] else { continue }
                    numbers[count] = number
                    count += 1
                }
                collect(exact, numbers[..<count], into: &result)
                collect(everyItem, numbers[..<count], into: &result)
            }
        }
        guard result.count > 1 else { return result }
        result.sort { $0.index < $1.index }
        // A user listed twice in one group, or in two groups with the same
        // grant, must not show the grant twice.
        var kept = 1
        for next in 1..<result.count where result[next].index != result[kept - 1].index {
            result[kept] = result[next]
            kept += 1
        }
        result.removeLast(result.count - kept)
        return result
    }

    /// Whether `user` holds `permission` on `resource`.
    public func holds(_ permission: String, on resource: Resource, for user: ActingUser) -> Bool {
        !matches(permission, on: resource, for: user).isEmpty
    }

    /// Appends the holdings whose grantee is `user`, `anyone` or one of the
    /// user's groups, comparing names.
    private func scan(_ holdings: [Holding]?, _ user: ActingUser, into result: inout [Match]) {
        guard let holdings else { return }
        for holding in holdings {
            let number = Int(holding.grantee)
            let held =
                number == 0
                || (number <= storage.userNumbers.count
                    ? storage.granteeNames[number] == user.accountId : user.groups.contains(storage.granteeNames[number]))
            guard held else { continue }
            let position = Int(holding.position)
            result.append(Match(index: position, grant: storage.grants[position]))
        }
    }

    /// Appends the holdings of the grantees `numbers` (binary search: a key may
    /// have many holders, a user few numbers).
    private func collect(_ holdings: [Holding]?, _ numbers: Slice<UnsafeMutableBufferPointer<Int32>>, into result: inout [Match]) {
        guard let holdings else { return }
        for number in numbers {
            var low = 0
            var high = holdings.count
            while low < high {
                let middle = (low + high) / 2
                if holdings[middle].grantee < number { low = middle + 1 } else { high = middle }
            }
            while low < holdings.count, holdings[low].grantee == number {
                let position = Int(holdings[low].position)
                result.append(Match(index: position, grant: storage.grants[position]))
                low += 1
            }
        }
    }
}
