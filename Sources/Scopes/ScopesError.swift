/// Every way a scope, resource, grant or route rule can be refused when a policy
/// is compiled.
///
/// Callers switch on `code`; `reason` says what to fix. Two errors are equal when
/// their codes are, so tests can write `#expect(throws: ScopesError(.implicationCycle))`.
/// `ruleIndex` names the route rule (its position in `routes.json`) for route
/// problems, so the policy loader can form a JSON pointer.
public struct ScopesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, CaseIterable {
        case invalidScope
        case implicationCycle
        case invalidResource
        case invalidResourceTemplate
        case invalidPathTemplate
        case unknownPathParameter
        case invalidRule
        case routeTie
    }

    public let code: Code
    /// Why, in words a policy author can act on.
    public let reason: String
    /// The route rule concerned (`RouteRule.index`), for route problems.
    public let ruleIndex: Int?

    public init(_ code: Code, _ reason: String = "", ruleIndex: Int? = nil) {
        self.code = code
        self.reason = reason
        self.ruleIndex = ruleIndex
    }

    public static func == (lhs: ScopesError, rhs: ScopesError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        reason.isEmpty ? code.rawValue : "\(code.rawValue): \(reason)"
    }
}
