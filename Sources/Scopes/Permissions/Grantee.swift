/// Who a permission grant is for.
public enum Grantee: Hashable, Sendable, CustomStringConvertible {
    /// One user, by account id.
    case user(String)
    /// Every member of a group.
    case group(String)
    /// Every authenticated user (anonymous requests never reach a permission test).
    case anyone

    public var description: String {
        switch self {
        case .user(let accountId): "user \(accountId)"
        case .group(let name): "group \(name)"
        case .anyone: "anyone"
        }
    }
}
