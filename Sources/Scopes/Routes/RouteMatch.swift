/// The rule a request matched, with the path parameters it captured.
public struct RouteMatch: Hashable, Sendable {
    public let rule: RouteRule
    /// In template order, the rest parameter last.
    public let parameters: [PathParameter]

    public init(rule: RouteRule, parameters: [PathParameter]) {
        self.rule = rule
        self.parameters = parameters
    }

    /// The raw value of the parameter called `name`.
    public subscript(parameter name: String) -> Substring? {
        parameters.first { $0.name == name }?.rawValue
    }
}
