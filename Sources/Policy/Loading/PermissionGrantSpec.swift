import Scopes

/// One grant of `permissions.json`: who holds which permission on which
/// resource, in the decision module's terms, with where it was written.
public struct PermissionGrantSpec: Sendable, Equatable {
    /// A permission name such as `BROWSE_PROJECTS`, matched exactly.
    public var permission: String
    /// `global`, `TYPE:ID`, or `TYPE:*` (every ID of that type).
    public var resource: Resource
    /// Exactly one user, one group, or anyone.
    public var grantee: Grantee
    public var source: PolicyLocation

    public init(permission: String, resource: Resource, grantee: Grantee, source: PolicyLocation) {
        self.permission = permission
        self.resource = resource
        self.grantee = grantee
        self.source = source
    }

    /// The grant as the permission table holds it.
    public var permissionGrant: PermissionGrant {
        PermissionGrant(permission: permission, resource: resource, grantee: grantee)
    }
}

/// Reads `permissions.json`.
enum PermissionsFile {
    static let name = "permissions.json"

    static func read(_ folder: PolicyFolder) -> [PermissionGrantSpec] {
        guard let root = folder.readJSON(name, required: true), let object = root.object(keys: ["grants"]),
            let elements = object.required("grants")?.elements
        else { return [] }
        return elements.compactMap(readGrant)
    }

    private static func readGrant(_ reader: JSONReader) -> PermissionGrantSpec? {
        guard let object = reader.object(keys: ["permission", "resource", "user", "group", "anyone"]) else {
            return nil
        }
        let permission = object.required("permission")?.nonEmptyString
        let resource = object.required("resource").flatMap(readResource)
        let grantee = readGrantee(object, reader: reader)
        guard let permission, let resource, let grantee else { return nil }
        return PermissionGrantSpec(
            permission: permission, resource: resource, grantee: grantee, source: reader.location)
    }

    private static func readResource(_ reader: JSONReader) -> Resource? {
        guard let text = reader.nonEmptyString else { return nil }
        do {
            return try Resource(parsing: text)
        } catch {
            reader.report("must be global, TYPE:ID or TYPE:* (\(error.reason))")
            return nil
        }
    }

    /// Exactly one of `user`, `group`, `"anyone": true`: a grant naming two would
    /// leave the reader guessing which one was meant.
    private static func readGrantee(_ object: ObjectReader, reader: JSONReader) -> Grantee? {
        var grantees: [Grantee] = []
        if let user = object.optional("user")?.nonEmptyString { grantees.append(.user(user)) }
        if let group = object.optional("group")?.nonEmptyString { grantees.append(.group(group)) }
        if let anyone = object.optional("anyone") {
            switch anyone.bool {
            case true?: grantees.append(.anyone)
            case false?: anyone.report("write \"anyone\": true, or leave it out")
            case nil: break
            }
        }
        let named = ["user", "group", "anyone"].filter { object.object[$0] != nil }
        if named.count != 1 {
            reader.report("a grant names exactly one of \"user\", \"group\" or \"anyone\" (found \(named.count))")
            return nil
        }
        return grantees.first
    }
}
