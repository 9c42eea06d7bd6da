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
    let storage: Storage

    final class Storage: Sendable {
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

        init(
            grants: [PermissionGrant], index: [Key: [Holding]], userNumbers: [String: Int32],
            groupNumbers: [String: Int32]
        ) {
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

    /// A permission on a resource, equal only when the UTF-8 bytes are: Swift's
    /// String equality folds canonically equivalent text (`é` precomposed and
    /// `e` + U+0301), but the upstream sees the bytes, so a grant on one must not
    /// cover the other.
    struct Key: Hashable {
        let permission: String
        let resource: Resource

        // Both switch over the resource in place: a part list returned from a
        // property would hold its own references to the strings (a retain and a
        // release each, on every lookup of the decision's path).
        static func == (lhs: Key, rhs: Key) -> Bool {
            guard ByteString.sameBytes(lhs.permission, rhs.permission) else { return false }
            switch lhs.resource {
            case .global:
                if case .global = rhs.resource { return true }
            case .item(let type, let id):
                if case .item(let otherType, let otherID) = rhs.resource {
                    return ByteString.sameBytes(type, otherType) && ByteString.sameBytes(id, otherID)
                }
            case .everyItem(let type):
                if case .everyItem(let otherType) = rhs.resource { return ByteString.sameBytes(type, otherType) }
            }
            return false
        }

        /// The permission, then the resource as a kind number and its type and ID, each by bytes.
        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes: permission)
            switch resource {
            case .global:
                hasher.combine(0)
                hasher.combine(bytes: "")
                hasher.combine(bytes: "")
            case .item(let type, let id):
                hasher.combine(1)
                hasher.combine(bytes: type)
                hasher.combine(bytes: id)
            case .everyItem(let type):
                hasher.combine(2)
                hasher.combine(bytes: type)
                hasher.combine(bytes: "")
            }
        }
    }

    /// One grant on a key: its grantee's number and its position in `grants`.
    struct Holding: Sendable {
        var grantee: Int32
        var position: Int32
    }

    /// Indexes `grants`; duplicates are kept (each shows in a trace).
    public init(_ grants: [PermissionGrant]) {
        var users: [String: Int32] = [:]
        var groups: [String: Int32] = [:]
        for grant in grants {
            if case .user(let accountId) = grant.grantee, users[accountId] == nil {
                users[accountId] = Int32(users.count + 1)
            }
        }
        for grant in grants {
            if case .group(let name) = grant.grantee, groups[name] == nil {
                groups[name] = Int32(users.count + groups.count + 1)
            }
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
            holdings.enumerated().sorted { ($0.element.grantee, $0.offset) < ($1.element.grantee, $1.offset) }.map(
                \.element)
        }
        storage = Storage(grants: grants, index: sorted, userNumbers: users, groupNumbers: groups)
    }
}

/// A string compared by its UTF-8 bytes, never by Unicode canonical equivalence.
struct ByteString: Equatable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: ByteString, rhs: ByteString) -> Bool { sameBytes(lhs.text, rhs.text) }

    /// Whether two strings have the same UTF-8 bytes: compared in place where both
    /// are contiguous (native strings are), not through the UTF-8 views' iterators.
    static func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let compared = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        return (compared ?? nil) ?? lhs.utf8.elementsEqual(rhs.utf8)
    }
}

extension Hasher {
    /// Feeds the UTF-8 bytes of `text` and its length (so "ab"+"c" differs from "a"+"bc").
    mutating func combine(bytes text: String) {
        combine(bytes: ByteString(text))
    }

    mutating func combine(bytes string: ByteString) {
        let utf8 = string.text.utf8
        if utf8.withContiguousStorageIfAvailable({ combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            // The same bytes fed the same way, so equal keys hash alike however they are stored.
            Array(utf8).withUnsafeBytes { combine(bytes: $0) }
        }
        combine(utf8.count)
    }
}
