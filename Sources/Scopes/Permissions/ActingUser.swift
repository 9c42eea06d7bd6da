/// The user a request runs as: the subject of every permission test.
///
/// Whether the user is active is the caller's business, checked before deciding.
public struct ActingUser: Hashable, Sendable, CustomStringConvertible {
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
}
