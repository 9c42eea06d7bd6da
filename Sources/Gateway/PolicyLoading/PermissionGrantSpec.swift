/// One grant of `permissions.json`: who holds which permission on which resource.
public struct PermissionGrantSpec: Sendable, Equatable {
    /// Who the grant is for: exactly one user, one group, or anyone.
    public enum Grantee: Sendable, Hashable {
        case user(accountId: String)
        case group(String)
        /// Every active user, and anonymous requests on routes that ask.
        case anyone
    }

    /// A permission name such as `BROWSE_PROJECTS`, matched exactly.
    public var permission: String
    public var resource: ResourcePattern
    public var grantee: Grantee
    public var source: PolicyLocation

    public init(permission: String, resource: ResourcePattern, grantee: Grantee, source: PolicyLocation) {
        self.permission = permission
        self.resource = resource
        self.grantee = grantee
        self.source = source
    }
}

/// The resource a grant covers: `global`, `TYPE:ID`, or `TYPE:*` (every ID of that type).
public enum ResourcePattern: Sendable, Hashable, CustomStringConvertible {
    case global
    case instance(type: String, id: String)
    case anyOfType(String)

    /// Parses `global`, `TYPE:ID` or `TYPE:*`; `nil` for anything else. The type
    /// is a word (`project`, `space`); the ID is whatever follows the first `:`.
    public init?(_ text: String) {
        if text == "global" { self = .global; return }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let type = String(text[..<colon]), id = String(text[text.index(after: colon)...])
        guard Self.isTypeName(type), !id.isEmpty, !id.contains(where: \.isWhitespace) else { return nil }
        self = id == "*" ? .anyOfType(type) : .instance(type: type, id: id)
    }

    static func isTypeName(_ text: Substring) -> Bool { isTypeName(String(text)) }

    static func isTypeName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    public var description: String {
        switch self {
        case .global: "global"
        case .instance(let type, let id): "\(type):\(id)"
        case .anyOfType(let type): "\(type):*"
        }
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
        guard let object = reader.object(keys: ["permission", "resource", "user", "group", "anyone"]) else { return nil }
        let permission = object.required("permission")?.nonEmptyString
        let resource = object.required("resource").flatMap(readResource)
        let grantee = readGrantee(object, reader: reader)
        guard let permission, let resource, let grantee else { return nil }
        return PermissionGrantSpec(permission: permission, resource: resource, grantee: grantee, source: reader.location)
    }

    private static func readResource(_ reader: JSONReader) -> ResourcePattern? {
        guard let text = reader.nonEmptyString else { return nil }
        guard let pattern = ResourcePattern(text) else {
            reader.report("must be global, TYPE:ID or TYPE:*")
            return nil
        }
        return pattern
    }

    /// Exactly one of `user`, `group`, `"anyone": true`: a grant naming two would
    /// leave the reader guessing which one was meant.
    private static func readGrantee(_ object: ObjectReader, reader: JSONReader) -> PermissionGrantSpec.Grantee? {
        var grantees: [PermissionGrantSpec.Grantee] = []
        if let user = object.optional("user")?.nonEmptyString { grantees.append(.user(accountId: user)) }
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
