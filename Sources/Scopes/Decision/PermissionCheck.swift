/// Passes when the acting user holds the route's permission on the resource the
/// request is about. Skipped on public routes and routes without a permission.
public struct PermissionCheck: Sendable {
    public let permissions: PermissionTable
    public let match: RouteMatch

    public init(permissions: PermissionTable, match: RouteMatch) {
        self.permissions = permissions
        self.match = match
    }

    public func verdict(for request: DecisionRequest) -> Verdict {
        if match.rule.isPublic { return Verdict(.permission, .skipped(.publicRoute), evidence: .none) }
        guard let required = match.rule.permission else {
            return Verdict(.permission, .skipped(.noPermissionRequired), evidence: .none)
        }
        let resolution = required.resource.resolve(match: match, rawQuery: request.rawQuery)
        switch resolution {
        case .undetermined(let reason):
            let denial = Denial.resourceUndetermined(
                permission: required.name, template: required.resource.text, reason: reason)
            return Verdict(
                .permission, .failed(denial),
                evidence: .permission(name: required.name, resource: resolution, grants: []))
        case .resolved(let resource):
            // The credential check has refused requests without a user already.
            let grants = request.user.map { permissions.matches(required.name, on: resource, for: $0) } ?? []
            let evidence = Verdict.Evidence.permission(name: required.name, resource: resolution, grants: grants)
            guard !grants.isEmpty else {
                let denial = Denial.insufficientPermission(permission: required.name, resource: resource)
                return Verdict(.permission, .failed(denial), evidence: evidence)
            }
            return Verdict(.permission, .passed, evidence: evidence)
        }
    }
}
