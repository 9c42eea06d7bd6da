/// The scope names Linkgate knows without being told (PROTOCOLS §4–§5).
public enum ScopeNames {
    /// The Connect scopes; case-insensitive, written upper case.
    public static let connect: Set<String> = [
        "NONE", "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "SPACE_ADMIN", "ADMIN", "ACT_AS_USER", "ACCESS_EMAIL_ADDRESSES",
    ]

    /// The classic Jira 3LO scopes; case-sensitive, as OAuth 2.0 scopes are.
    public static let classicJira3LO: Set<String> = [
        "read:jira-user", "read:jira-work", "write:jira-work", "manage:jira-project",
        "manage:jira-configuration", "manage:jira-webhook", "read:me", "offline_access",
    ]

    /// The built-in Connect implications (CONTRACT §2, scopes.json), one step each.
    public static let connectImplications: [String: [String]] = [
        "READ": ["NONE"], "WRITE": ["READ"], "DELETE": ["WRITE"],
        "PROJECT_ADMIN": ["DELETE"], "SPACE_ADMIN": ["DELETE"], "ADMIN": ["PROJECT_ADMIN", "SPACE_ADMIN"],
    ]

    /// The name as the policy model keeps it: Connect names upper-cased, since
    /// descriptors may write `read`; every other name exactly as written.
    public static func canonical(_ name: String) -> String {
        let upper = name.uppercased()
        return connect.contains(upper) ? upper : name
    }
}
