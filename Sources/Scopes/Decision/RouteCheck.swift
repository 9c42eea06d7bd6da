/// Finds the route rule for the request; fails with 404 when there is none, and
/// with 400 when the path has an encoded `/` the route does not accept.
public struct RouteCheck: Sendable {
    public let routes: RouteTable

    public init(routes: RouteTable) { self.routes = routes }

    public func verdict(for request: DecisionRequest) -> Verdict {
        guard let match = routes.match(method: request.method, path: request.rawPath) else {
            let denial = Denial.noRoute(method: request.method, path: String(request.rawPath))
            return Verdict(.route, .failed(denial), evidence: .route(nil))
        }
        if !match.rule.allowsEncodedSlash, Self.hasEncodedSlash(request.rawPath) {
            return Verdict(.route, .failed(.encodedSlash), evidence: .route(match))
        }
        return Verdict(.route, .passed, evidence: .route(match))
    }

    /// Whether the raw path holds `%2F` or `%2f`.
    static func hasEncodedSlash(_ path: Substring) -> Bool {
        var bytes = path.utf8.makeIterator()
        var previous: (UInt8, UInt8) = (0, 0)
        while let byte = bytes.next() {
            if previous.0 == UInt8(ascii: "%"), previous.1 == UInt8(ascii: "2"), byte | 0x20 == UInt8(ascii: "f") {
                return true
            }
            previous = (previous.1, byte)
        }
        return false
    }
}
