/// One line of `permissions.json`: `grantee` holds `permission` on `resource`.
public struct PermissionGrant: Hashable, Sendable, CustomStringConvertible {
    /// The permission's name, case-sensitive (`BROWSE_PROJECTS`).
    public let permission: String
    public let resource: Resource
    public let grantee: Grantee

    public init(permission: String, resource: Resource, grantee: Grantee) {
        self.permission = permission
        self.resource = resource
        self.grantee = grantee
    }

    public var description: String { "\(permission) on \(resource) to \(grantee)" }
}
