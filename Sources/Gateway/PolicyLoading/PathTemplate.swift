/// Parses and checks route path templates and resource templates.
enum PathTemplate {
    /// The segments of `path`, or a message saying what is wrong with it.
    static func parse(_ path: String) -> Result<[PathSegment], TemplateError> {
        guard path.hasPrefix("/") else { return .failure(TemplateError("must start with /")) }
        if path.contains("?") || path.contains("#") { return .failure(TemplateError("must not hold a query or fragment")) }
        if path == "/" { return .success([]) }
        let texts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var segments: [PathSegment] = []
        for (index, text) in texts.enumerated() {
            guard !text.isEmpty else { return .failure(TemplateError("must not have an empty segment (//, or a trailing /)")) }
            let segment: PathSegment
            switch parseSegment(text) {
            case .success(let parsed): segment = parsed
            case .failure(let error): return .failure(error)
            }
            if case .rest = segment, index != texts.count - 1 {
                return .failure(TemplateError("{\(segment.parameterName!)*} may only be the last segment"))
            }
            if let name = segment.parameterName, segments.contains(where: { $0.parameterName == name }) {
                return .failure(TemplateError("parameter {\(name)} appears twice"))
            }
            segments.append(segment)
        }
        return .success(segments)
    }

    /// A segment is a literal, or a whole `{name}` / `{name*}`: half-literal
    /// segments (`issue-{id}`) are refused to keep matching simple and unambiguous.
    private static func parseSegment(_ text: String) -> Result<PathSegment, TemplateError> {
        guard text.contains("{") || text.contains("}") else {
            if text.contains(where: { $0.isWhitespace }) { return .failure(TemplateError("must not contain spaces")) }
            return .success(.literal(text))
        }
        guard text.hasPrefix("{"), text.hasSuffix("}"), text.count > 2 else {
            return .failure(TemplateError("\(text): a parameter must be a whole segment, {name} or {name*}"))
        }
        var name = String(text.dropFirst().dropLast())
        let isRest = name.hasSuffix("*")
        if isRest { name.removeLast() }
        guard isParameterName(name) else {
            return .failure(TemplateError("\(text): a parameter name is letters, digits and _"))
        }
        return .success(isRest ? .rest(name) : .parameter(name))
    }

    static func isParameterName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Checks a route's `resource`: `global`, `TYPE:*`, or `TYPE:ID` whose ID may
    /// hold `{param}` from the path or `{query.NAME}`.
    static func checkResource(_ resource: String, parameters: Set<String>) -> TemplateError? {
        if resource == "global" { return nil }
        guard let colon = resource.firstIndex(of: ":"), ResourcePattern.isTypeName(resource[..<colon]) else {
            return TemplateError("must be global, TYPE:ID or TYPE:*")
        }
        var rest = resource[resource.index(after: colon)...]
        if rest.isEmpty { return TemplateError("must be global, TYPE:ID or TYPE:*") }
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return TemplateError("has an unclosed {") }
            let name = String(rest[rest.index(after: open)..<close])
            if let problem = checkReference(name, parameters: parameters) { return problem }
            rest = rest[rest.index(after: close)...]
        }
        return rest.contains("}") ? TemplateError("has a } without {") : nil
    }

    private static func checkReference(_ name: String, parameters: Set<String>) -> TemplateError? {
        if name.hasPrefix("query.") {
            let query = name.dropFirst("query.".count)
            return query.isEmpty ? TemplateError("{query.} needs a parameter name") : nil
        }
        if parameters.contains(name) { return nil }
        let known = parameters.sorted().map { "{\($0)}" }.joined(separator: ", ")
        return TemplateError("{\(name)} is not a parameter of the path" + (known.isEmpty ? "" : " (it has \(known))"))
    }
}

/// What is wrong with a template, for a problem message.
struct TemplateError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}
