import JWT

/// One account of `users.json`: a person or an app's own user.
public struct UserRecord: Sendable, Equatable {
    /// The stable id tokens carry (`sub`) and grants name.
    public var accountId: String
    /// The user name; with `email`, what HTTP Basic accepts as the login.
    public var name: String
    public var email: String?
    /// For people; defaults to `name`.
    public var displayName: String
    /// Groups the user belongs to; a group exists when some user lists it.
    public var groups: [String]
    /// `false`: the user can do nothing, and every token acting as them fails.
    public var active: Bool
    /// The output of `linkgate hash-password`; without it, no local login.
    public var passwordHash: String?
    public var source: PolicyLocation

    public init(accountId: String, name: String, source: PolicyLocation) {
        self.accountId = accountId
        self.name = name
        self.displayName = name
        self.groups = []
        self.active = true
        self.source = source
    }
}

/// Reads `users.json`.
enum UsersFile {
    static let name = "users.json"
    static let keys = ["accountId", "name", "email", "displayName", "groups", "active", "passwordHash"]

    /// The users, or `nil` when the file cannot be used at all (then references
    /// to users are not checked, rather than each reported as unknown).
    static func read(_ folder: PolicyFolder) -> [UserRecord]? {
        guard let root = folder.readJSON(name, required: true), let object = root.object(keys: ["users"]),
            let elements = object.required("users")?.elements
        else { return nil }
        return elements.compactMap(readUser)
    }

    private static func readUser(_ reader: JSONReader) -> UserRecord? {
        guard let object = reader.object(keys: keys) else { return nil }
        let accountId = object.required("accountId")?.nonEmptyString
        let name = object.required("name")?.nonEmptyString
        guard let accountId, let name else { return nil }
        var user = UserRecord(accountId: accountId, name: name, source: reader.location)
        if let email = object.optional("email", nullMeansAbsent: true), let text = email.nonEmptyString {
            if text.contains("@") { user.email = text } else { email.report("must be an email address") }
        }
        user.displayName = object.string("displayName", default: name)
        user.groups = object.strings("groups")
        user.active = object.bool("active", default: true)
        if let hash = object.optional("passwordHash", nullMeansAbsent: true), let text = hash.nonEmptyString {
            do {
                _ = try PasswordHash(parsing: text)
                user.passwordHash = text
            } catch {
                hash.report(error.reason)
            }
        }
        return user
    }
}
