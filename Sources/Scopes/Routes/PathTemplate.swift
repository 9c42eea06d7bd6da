/// A route's path: literal segments, `{name}` for one segment, `{name*}` for
/// the rest of the path (last segment only).
///
/// The path is split on `/` after its leading `/`, keeping empty segments, so
/// `/status/` (segments `status`, ``) differs from `/status`. Literals are
/// compared with the raw request segment, byte for byte: the gateway refuses
/// paths that do not normalise to themselves (docs/protocols.md §5) before deciding, so
/// `/%70roject` never reaches the matcher posing as `/project`.
public struct PathTemplate: Hashable, Sendable, CustomStringConvertible {
    /// One piece of a template.
    public enum Segment: Hashable, Sendable {
        /// Matches exactly this raw segment.
        case literal(String)
        /// Matches one non-empty segment.
        case parameter(String)
        /// Matches every remaining segment, none included.
        case rest(String)
    }

    /// The text as written in `routes.json`.
    public let text: String
    public let segments: [Segment]

    /// Parses a template.
    ///
    /// - Throws: `ScopesError.Code.invalidPathTemplate` when the text does not
    ///   start with `/`, a segment mixes braces with text, a name is not made of
    ///   letters, digits, `_` and `-`, a name repeats, or `{name*}` is not last.
    public init(_ text: String) throws(ScopesError) {
        guard text.first == "/" else {
            throw ScopesError(.invalidPathTemplate, "'\(text)' must start with '/'")
        }
        var segments: [Segment] = []
        let pieces = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (position, piece) in pieces.enumerated() {
            let segment = try PathTemplate.segment(piece, in: text)
            if case .rest = segment, position != pieces.count - 1 {
                throw ScopesError(.invalidPathTemplate, "'\(text)': '{name*}' must be the last segment")
            }
            segments.append(segment)
        }
        let names = segments.compactMap(\.parameterName)
        guard Set(names).count == names.count else {
            throw ScopesError(.invalidPathTemplate, "'\(text)' names a parameter twice")
        }
        self.text = text
        self.segments = segments
    }

    /// The parameter names in order, the rest parameter included.
    public var parameterNames: [String] { segments.compactMap(\.parameterName) }

    public var description: String { text }

    private static func segment(_ piece: Substring, in text: String) throws(ScopesError) -> Segment {
        guard piece.first == "{" else {
            guard !piece.contains(where: { $0 == "{" || $0 == "}" }) else {
                throw ScopesError(.invalidPathTemplate, "'\(text)': a parameter must be a whole segment")
            }
            return .literal(String(piece))
        }
        guard piece.last == "}", piece.count > 2 else {
            throw ScopesError(.invalidPathTemplate, "'\(text)': '\(piece)' is not '{name}' or '{name*}'")
        }
        var name = piece.dropFirst().dropLast()
        let isRest = name.last == "*"
        if isRest { name = name.dropLast() }
        guard PathTemplate.isValidName(name) else {
            throw ScopesError(.invalidPathTemplate, "'\(text)': '\(piece)' has an invalid parameter name")
        }
        return isRest ? .rest(String(name)) : .parameter(String(name))
    }

    /// Parameter names are plain identifiers, so `{query.NAME}` in a resource
    /// template can never be mistaken for one.
    static func isValidName<S: StringProtocol>(_ name: S) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}

extension PathTemplate.Segment {
    var parameterName: String? {
        switch self {
        case .literal: nil
        case .parameter(let name), .rest(let name): name
        }
    }
}
