/// Finds the route rule for the request; fails with 404 when there is none.
public struct RouteCheck: Sendable {
    public let routes: RouteTable

    public init(routes: RouteTable) { self.routes = routes }

    public func verdict(for request: DecisionRequest) -> Verdict {
        guard let match = routes.match(method: request.method, path: request.rawPath) else {
            let denial = Denial.noRoute(method: request.method, path: String(request.rawPath))
            return Verdict(.route, .failed(denial), evidence: .route(nil))
        }
        return Verdict(.route, .passed, evidence: .route(match))
    }
}
