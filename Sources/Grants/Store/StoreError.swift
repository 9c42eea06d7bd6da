/// A store failure with a code callers switch on and a message an operator
/// can act on. Never holds a token, a secret or a password.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The `store` setting is neither `sqlite:PATH` nor `postgres://…`.
        case badLocation
        /// The database could not be opened or reached.
        case unavailable
        /// The schema is newer than this binary knows, or a migration failed.
        case migration
        /// A query failed.
        case query
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Equal when the codes are, so tests can expect a code.
    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
}
