/// The compiled policy a decision is made against: built once per load, then
/// shared read-only (the server swaps the whole value on reload).
public struct DecisionPolicy: Sendable {
    public let implication: ScopeImplication
    public let permissions: PermissionTable
    public let routes: RouteTable

    public init(implication: ScopeImplication, permissions: PermissionTable, routes: RouteTable) {
        self.implication = implication
        self.permissions = permissions
        self.routes = routes
    }
}
