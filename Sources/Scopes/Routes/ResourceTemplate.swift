/// A route's `resource`: a `Resource` whose ID may be built from path
/// parameters (`project:{projectKey}`) and query parameters
/// (`project:{query.projectKey}`), with literal text between them.
///
/// The type is always literal. `global`, `TYPE:ID` and `TYPE:*` without braces
/// are fixed resources.
public struct ResourceTemplate: Hashable, Sendable, CustomStringConvertible {
    /// One piece of the ID.
    public enum Piece: Hashable, Sendable {
        case literal(String)
        case pathParameter(String)
        case queryParameter(String)
    }

    enum Shape: Hashable, Sendable {
        case fixed(Resource)
        case templated(type: String, id: [Piece])
    }

    /// The text as written in `routes.json`.
    public let text: String
    let shape: Shape

    /// Parses a template.
    ///
    /// - Throws: `ScopesError.Code.invalidResourceTemplate` for a malformed
    ///   template (unbalanced braces, an empty or unknown placeholder, braces in
    ///   the type).
    public init(_ text: String) throws(ScopesError) {
        self.text = text
        guard text.contains("{") || text.contains("}") else {
            do { shape = .fixed(try Resource(parsing: text)) } catch {
                throw ScopesError(.invalidResourceTemplate, error.reason)
            }
            return
        }
        guard let colon = text.firstIndex(of: ":"), Resource.isValidType(text[..<colon]) else {
            throw ScopesError(.invalidResourceTemplate, "'\(text)' must be 'TYPE:ID' with a literal type")
        }
        let pieces = try ResourceTemplate.pieces(text[text.index(after: colon)...], in: text)
        shape = .templated(type: String(text[..<colon]), id: pieces)
    }

    /// The path parameters the template reads.
    public var pathParameterNames: [String] {
        guard case .templated(_, let pieces) = shape else { return [] }
        return pieces.compactMap { if case .pathParameter(let name) = $0 { name } else { nil } }
    }

    public var description: String { text }

    private static func pieces(_ id: Substring, in text: String) throws(ScopesError) -> [Piece] {
        var pieces: [Piece] = []
        var remaining = id
        while !remaining.isEmpty {
            guard let open = remaining.firstIndex(of: "{") else {
                guard !remaining.contains("}") else { throw unbalanced(text) }
                pieces.append(.literal(String(remaining)))
                break
            }
            let literal = remaining[..<open]
            guard !literal.contains("}") else { throw unbalanced(text) }
            if !literal.isEmpty { pieces.append(.literal(String(literal))) }
            guard let close = remaining[open...].firstIndex(of: "}") else { throw unbalanced(text) }
            pieces.append(try placeholder(remaining[remaining.index(after: open)..<close], in: text))
            remaining = remaining[remaining.index(after: close)...]
        }
        return pieces
    }

    private static func placeholder(_ name: Substring, in text: String) throws(ScopesError) -> Piece {
        if name.hasPrefix("query.") {
            let query = name.dropFirst("query.".count)
            guard !query.isEmpty, !query.contains("{") else { throw badName(name, text) }
            return .queryParameter(String(query))
        }
        guard PathTemplate.isValidName(name) else { throw badName(name, text) }
        return .pathParameter(String(name))
    }

    private static func unbalanced(_ text: String) -> ScopesError {
        ScopesError(.invalidResourceTemplate, "'\(text)' has unbalanced braces")
    }

    private static func badName(_ name: Substring, _ text: String) -> ScopesError {
        ScopesError(.invalidResourceTemplate, "'\(text)': '{\(name)}' is not '{name}' or '{query.NAME}'")
    }
}
