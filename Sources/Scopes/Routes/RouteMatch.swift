/// The rule a request matched, with the path parameters it captured.
public struct RouteMatch: Hashable, Sendable {
    public let rule: RouteRule
    private let captured: Captured

    /// Parameters as given, or the matched path to read them from on demand.
    private enum Captured: Sendable {
        case listed([PathParameter])
        /// The raw path after its leading `/`; `rule.path` matches it.
        case path(Substring)
    }

    public init(rule: RouteRule, parameters: [PathParameter]) {
        self.rule = rule
        self.captured = .listed(parameters)
    }

    /// A match of `rule` on `path` (after its leading `/`), found by `RouteTable`.
    init(rule: RouteRule, matchedPath path: Substring) {
        self.rule = rule
        self.captured = .path(path)
    }

    /// In template order, the rest parameter last.
    public var parameters: [PathParameter] {
        switch captured {
        case .listed(let parameters): return parameters
        case .path(let path):
            var parameters: [PathParameter] = []
            rule.path.forEachParameter(in: path) { name, value in
                parameters.append(PathParameter(name: name, rawValue: value))
                return true
            }
            return parameters
        }
    }

    /// The raw value of the parameter called `name`.
    public subscript(parameter name: String) -> Substring? {
        switch captured {
        case .listed(let parameters): return parameters.first { $0.name == name }?.rawValue
        case .path(let path):
            var found: Substring?
            rule.path.forEachParameter(in: path) { candidate, value in
                guard candidate == name else { return true }
                found = value
                return false
            }
            return found
        }
    }

    public static func == (lhs: RouteMatch, rhs: RouteMatch) -> Bool {
        lhs.rule == rhs.rule && lhs.parameters == rhs.parameters
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rule)
        hasher.combine(parameters)
    }
}

extension PathTemplate {
    /// Calls `body` with each parameter's name and raw value in a path this
    /// template matches (given after its leading `/`), in template order, until
    /// `body` returns false. The segments are split as `RouteTable` split them.
    func forEachParameter(in path: Substring, _ body: (String, Substring) -> Bool) {
        let utf8 = path.utf8
        func value(_ range: Range<Int>?) -> Substring {
            guard let range else { return "" }
            let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return path[lower..<utf8.index(lower, offsetBy: range.count)]
        }
        if utf8.withContiguousStorageIfAvailable({ bytes in
            forEachParameter(in: bytes) { name, range in body(name, value(range)) }
        }) == nil {
            Array(utf8).withUnsafeBufferPointer { bytes in
                forEachParameter(in: bytes) { name, range in body(name, value(range)) }
            }
        }
    }

    /// The same over the path's bytes: each value as a byte range, `nil` for a
    /// `{name*}` that matched no segment.
    private func forEachParameter(in bytes: UnsafeBufferPointer<UInt8>, _ body: (String, Range<Int>?) -> Bool) {
        var start: Int? = 0
        for segment in segments {
            if case .rest(let name) = segment {
                _ = body(name, start.map { $0..<bytes.count })
                return
            }
            guard let current = start else { return }
            var end = current
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            if case .parameter(let name) = segment, !body(name, current..<end) { return }
            start = end < bytes.count ? end + 1 : nil
        }
    }
}
