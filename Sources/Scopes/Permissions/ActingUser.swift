/// The user a request runs as: the subject of every permission test.
///
/// Whether the user is active is the caller's business, checked before deciding.
/// A class, immutable, equal and hashed by value: a request passes its user to
/// the decision and the trace, and a reference is one retain where the account
/// id and the groups were two.
public final class ActingUser: Hashable, Sendable, CustomStringConvertible {
    public let accountId: String
    /// The groups the user belongs to, from `users.json`.
    public let groups: [String]

    public init(accountId: String, groups: [String] = []) {
        self.accountId = accountId
        self.groups = groups
    }

    public var description: String {
        groups.isEmpty ? accountId : "\(accountId) (groups: \(groups.joined(separator: ", ")))"
    }

    public static func == (lhs: ActingUser, rhs: ActingUser) -> Bool {
        lhs === rhs || (lhs.accountId == rhs.accountId && lhs.groups == rhs.groups)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(accountId)
        hasher.combine(groups)
    }
}
