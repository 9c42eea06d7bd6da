/// What a permission is held on: the whole site (`global`), one item
/// (`project:PROJ`), or every item of a type (`project:*`).
///
/// Types and IDs are case-sensitive. The ID is everything after the first `:`,
/// so it may itself contain `:` or `/` (a percent-decoded path parameter can).
public enum Resource: Hashable, Sendable, CustomStringConvertible {
    /// Site-wide, like Jira's global permissions (`ADMINISTER`).
    case global
    /// One item of a type: `project:PROJ`.
    case item(type: String, id: String)
    /// Every item of a type: `project:*`.
    case everyItem(type: String)

    /// Parses `global`, `TYPE:ID` or `TYPE:*`.
    ///
    /// - Throws: `ScopesError.Code.invalidResource` for anything else (an empty
    ///   type or ID, no `:`, a type with braces).
    public init(parsing text: String) throws(ScopesError) {
        if text == "global" {
            self = .global
            return
        }
        guard let colon = text.firstIndex(of: ":") else {
            throw ScopesError(.invalidResource, "'\(text)' is not 'global', 'TYPE:ID' or 'TYPE:*'")
        }
        let type = String(text[..<colon])
        let id = String(text[text.index(after: colon)...])
        guard Resource.isValidType(type), !id.isEmpty else {
            throw ScopesError(.invalidResource, "'\(text)' needs a type and an ID, as in 'project:PROJ'")
        }
        self = id == "*" ? .everyItem(type: type) : .item(type: type, id: id)
    }

    /// A type is a non-empty name without `:`, `*`, braces or spaces.
    static func isValidType<S: StringProtocol>(_ type: S) -> Bool {
        !type.isEmpty && !type.contains { ":*{} \t".contains($0) }
    }

    /// The text form, as written in `permissions.json`.
    public var description: String {
        switch self {
        case .global: "global"
        case .item(let type, let id): "\(type):\(id)"
        case .everyItem(let type): "\(type):*"
        }
    }
}
