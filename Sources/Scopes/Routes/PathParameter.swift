/// One path parameter captured by a route match.
public struct PathParameter: Hashable, Sendable, CustomStringConvertible {
    /// The name in the template (`projectKey` for `{projectKey}`).
    public let name: String
    /// The segment as it was in the request, still percent-encoded; for a
    /// `{name*}` parameter, every remaining segment joined by `/`.
    public let rawValue: Substring

    public init(name: String, rawValue: Substring) {
        self.name = name
        self.rawValue = rawValue
    }

    /// The percent-decoded value, or `nil` when the encoding is invalid.
    public var value: String? { PercentDecoding.decode(rawValue, plusAsSpace: false) }

    public var description: String { "\(name) = \(value ?? String(rawValue))" }
}
