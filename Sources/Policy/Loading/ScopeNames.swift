import Scopes

/// The scope names Linkgate knows without being told (docs/protocols.md §4–§5). The
/// Connect names and their implications are the decision module's; this adds
/// the classic Jira 3LO names a policy may use without declaring them.
public enum ScopeNames {
    /// The Connect scopes; case-insensitive, written upper case.
    public static var connect: Set<String> { Scope.connectNames }

    /// The classic Jira 3LO scopes; case-sensitive, as OAuth 2.0 scopes are.
    public static let classicJira3LO: Set<String> = [
        "read:jira-user", "read:jira-work", "write:jira-work", "manage:jira-project",
        "manage:jira-configuration", "manage:jira-webhook", "read:me", "offline_access",
    ]

    /// The built-in Connect implications (docs/policies.md §8), one step each.
    public static var connectImplications: [String: [String]] {
        Dictionary(uniqueKeysWithValues: ScopeImplication.builtInEdges.map { ($0.key.name, $0.value.map(\.name)) })
    }

    /// The name as the policy model keeps it: Connect names upper-cased, since
    /// descriptors may write `read`; every other name exactly as written.
    public static func canonical(_ name: String) -> String {
        Scope(name).name
    }
}
