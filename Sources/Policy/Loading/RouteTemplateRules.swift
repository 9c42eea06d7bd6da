import Scopes

/// The rules a policy file adds to the decision module's template parsers
/// (`Scopes.PathTemplate`, `Scopes.ResourceTemplate`), which do the parsing.
enum RouteTemplateRules {
    /// Policy-only rules for a route path: no query or fragment, no empty
    /// segment (a `//` or a trailing `/` never matches what the author meant),
    /// no whitespace. Nil when the path is acceptable.
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must start with /" }
        if path.contains("?") || path.contains("#") { return "must not hold a query or fragment" }
        if path == "/" { return nil }
        if path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return "must not have an empty segment (//, or a trailing /)"
        }
        if path.contains(where: \.isWhitespace) { return "must not contain spaces" }
        return nil
    }

    /// Checks a route's `resource` with the decision module's parser, and that
    /// every `{param}` it reads is a parameter of the route's path.
    static func resourceProblem(_ resource: String, path: Scopes.PathTemplate) -> String? {
        let template: ResourceTemplate
        do {
            template = try ResourceTemplate(resource)
        } catch {
            return error.reason
        }
        let known = path.parameterNames
        guard let unknown = template.pathParameterNames.first(where: { !known.contains($0) }) else { return nil }
        let list = known.map { "{\($0)}" }.joined(separator: ", ")
        return "{\(unknown)} is not a parameter of the path" + (list.isEmpty ? "" : " (it has \(list))")
    }
}
