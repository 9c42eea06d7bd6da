/// How a decision was reached: the request and the verdict of every check that
/// ran, in order. The accessors below only read the verdicts.
public struct DecisionTrace: Hashable, Sendable {
    public let request: DecisionRequest
    public let verdicts: [Verdict]

    public init(request: DecisionRequest, verdicts: [Verdict]) {
        self.request = request
        self.verdicts = verdicts
    }

    /// The verdict of `check`, when it ran.
    public func verdict(of check: Verdict.Check) -> Verdict? {
        verdicts.first { $0.check == check }
    }

    /// The matched rule and path parameters.
    public var route: RouteMatch? {
        if case .route(let match)? = verdict(of: .route)?.evidence { match } else { nil }
    }

    /// The route's scope alternatives (empty when the scope check did not run).
    public var scopesRequired: [Scope] {
        if case .scope(let required, _)? = verdict(of: .scope)?.evidence { required } else { [] }
    }

    /// What the credential held after implication; `nil` when the scope test
    /// was skipped or did not run.
    public var scopesHeld: ScopeSet? {
        if case .scope(_, let held)? = verdict(of: .scope)?.evidence { held } else { nil }
    }

    /// The permission evaluated, when the permission test ran.
    public var permission: String? {
        if case .permission(let name, _, _)? = verdict(of: .permission)?.evidence { name } else { nil }
    }

    /// The resource the permission was evaluated on (or why it could not be).
    public var resource: ResourceResolution? {
        if case .permission(_, let resource, _)? = verdict(of: .permission)?.evidence { resource } else { nil }
    }

    /// The grants that gave the permission.
    public var matchingGrants: [PermissionTable.Match] {
        if case .permission(_, _, let grants)? = verdict(of: .permission)?.evidence { grants } else { [] }
    }
}
