/// One scope name: a Connect scope (`READ`, `ACT_AS_USER`, …) or a 3LO scope
/// (`read:jira-work`).
///
/// Connect scope names are case-insensitive (docs/protocols.md §5), so the built-in names
/// are canonicalised to upper case on creation: `Scope("read") == Scope("READ")`.
/// Every other name is kept exactly as written: 3LO scopes are case-sensitive.
public struct Scope: Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The canonical name.
    public let name: String

    /// Creates a scope, upper-casing it when it names a built-in Connect scope.
    public init(_ name: String) {
        self.name = Scope.canonicalConnectName(name) ?? name
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// Whether this is one of the built-in Connect scopes.
    public var isConnectScope: Bool { Scope.connectNames.contains(name) }

    public var description: String { name }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.name < rhs.name }

    /// The built-in Connect scope names (docs/protocols.md §5).
    public static let connectNames: Set<String> = [
        "NONE", "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "SPACE_ADMIN", "ADMIN",
        "ACT_AS_USER", "ACCESS_EMAIL_ADDRESSES",
    ]

    private static func canonicalConnectName(_ name: String) -> String? {
        // Connect names are ASCII letters and `_`; anything else (a `:` in a 3LO
        // scope, say) cannot be one, and skipping it avoids upper-casing on that path.
        guard name.utf8.count <= 22,
            name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A })
        else { return nil }
        let upper = name.uppercased()
        return connectNames.contains(upper) ? upper : nil
    }
}
