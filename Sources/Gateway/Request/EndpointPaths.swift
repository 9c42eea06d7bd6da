/// The paths of the gateway's own endpoints (docs/gateway.md §6), as its router
/// registers them: exact paths, and templates in which a `{name}` segment stands
/// for exactly one non-empty segment (`/connect-install-keys/{kid}`). A request
/// path is compared as received, byte for byte: another spelling is not an endpoint.
struct EndpointPaths: Sendable {
    /// Substrings, so that a request's path is looked up without a copy.
    private let exact: Set<Substring>
    /// Each template with its literal start (up to the first `{`): the fast path
    /// asks for every proxied request, so a path is split only when it begins alike.
    private let templates: [(prefix: String, template: String, isASCII: Bool)]
    /// The byte lengths of the exact paths: an ASCII path of another length is none
    /// of them (between ASCII strings, equality is byte equality), so it is not hashed.
    private let exactLengths: [Int]
    /// Whether every exact path is ASCII, so that `exactLengths` rules for ASCII paths.
    private let exactAreASCII: Bool

    init(_ paths: some Sequence<String>) {
        var exact: Set<Substring> = []
        var templates: [(prefix: String, template: String, isASCII: Bool)] = []
        for path in paths {
            if let brace = path.firstIndex(of: "{") {
                templates.append((String(path[..<brace]), path, path.utf8.allSatisfy { $0 < 0x80 }))
            } else {
                exact.insert(path[...])
            }
        }
        self.exact = exact
        self.templates = templates
        exactLengths = Array(Set(exact.map(\.utf8.count))).sorted()
        exactAreASCII = exact.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    }

    func contains(_ path: Substring) -> Bool {
        // Between ASCII strings canonical equivalence is byte equality, so an ASCII
        // path's prefix is compared as bytes (no grapheme breaking); any other path
        // as `String` compares it.
        let isASCII = path.utf8.allSatisfy { $0 < 0x80 }
        let mayBeExact = !(isASCII && exactAreASCII) || exactLengths.contains(path.utf8.count)
        if mayBeExact, exact.contains(path) { return true }
        return templates.contains { template in
            let begins =
                isASCII && template.isASCII
                ? path.utf8.starts(with: template.prefix.utf8) : path.hasPrefix(template.prefix)
            return begins && Self.matches(path, template: template.template)
        }
    }

    /// Whether `path` is `template`: literal segments equal, each `{name}` one non-empty segment.
    static func matches(_ path: Substring, template: String) -> Bool {
        let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        let templateSegments = template.split(separator: "/", omittingEmptySubsequences: false)
        guard pathSegments.count == templateSegments.count else { return false }
        for (segment, pattern) in zip(pathSegments, templateSegments) {
            if pattern.hasPrefix("{"), pattern.hasSuffix("}") {
                if segment.isEmpty { return false }
            } else if segment != pattern {
                return false
            }
        }
        return true
    }
}
