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
        index(of: check).map { verdicts[$0] }
    }

    /// The evidence of `check`'s verdict, when it ran: read in place, where
    /// `verdict(of:)` copies the whole verdict (its outcome's references too).
    func evidence(of check: Verdict.Check) -> Verdict.Evidence? {
        index(of: check).map { verdicts[$0].evidence }
    }

    private func index(of check: Verdict.Check) -> Int? {
        verdicts.firstIndex { $0.check == check }
    }

    /// The matched rule and path parameters.
    public var route: RouteMatch? {
        if case .route(let match)? = evidence(of: .route) { match } else { nil }
    }

    /// The route's scope alternatives (empty when the scope check did not run).
    public var scopesRequired: [Scope] {
        if case .scope(let required, _)? = evidence(of: .scope) { required } else { [] }
    }

    /// What the credential held after implication; `nil` when the scope test
    /// was skipped or did not run.
    public var scopesHeld: ScopeSet? {
        if case .scope(_, let held)? = evidence(of: .scope) { held } else { nil }
    }

    /// The permission evaluated, when the permission test ran.
    public var permission: String? {
        if case .permission(let name, _, _)? = evidence(of: .permission) { name } else { nil }
    }

    /// The resource the permission was evaluated on (or why it could not be).
    public var resource: ResourceResolution? {
        if case .permission(_, let resource, _)? = evidence(of: .permission) { resource } else { nil }
    }

    /// The grants that gave the permission.
    public var matchingGrants: [PermissionTable.Match] {
        if case .permission(_, _, let grants)? = evidence(of: .permission) { grants } else { [] }
    }
}
