/// What one check concluded, with the evidence it looked at. A decision's trace
/// is the list of these; nothing else records how a request was decided.
public struct Verdict: Hashable, Sendable {
    /// Which check spoke.
    public enum Check: String, Hashable, Sendable, CaseIterable {
        case route, credential, scope, permission
    }

    /// Why a check did not apply.
    public enum SkipReason: Hashable, Sendable, CustomStringConvertible {
        /// `"public": true` routes forward anyone, untested.
        case publicRoute
        /// Basic and OAuth 1.0a carry no scopes (docs/gateway.md §3).
        case credentialWithoutScopes(CredentialKind)
        /// The route has no `permission`: a scope test only.
        case noPermissionRequired

        public var description: String {
            switch self {
            case .publicRoute: "public route"
            case .credentialWithoutScopes(let kind): "\(kind) credentials carry no scopes"
            case .noPermissionRequired: "the route requires no permission"
            }
        }
    }

    public enum Outcome: Hashable, Sendable {
        case passed
        case skipped(SkipReason)
        case failed(Denial)
    }

    /// What the check looked at.
    public enum Evidence: Hashable, Sendable {
        /// The matched rule and its parameters; `nil` when none matched.
        case route(RouteMatch?)
        case credential(CredentialKind, user: ActingUser?)
        /// The route's alternatives and what the credential holds after
        /// implication (`nil` when the test was skipped).
        case scope(required: [Scope], heldAfterImplication: ScopeSet?)
        /// The permission, the resource it was evaluated on (or why it could not
        /// be determined), and the grants that gave it.
        case permission(name: String, resource: ResourceResolution, grants: [PermissionTable.Match])
        /// Nothing was looked at (the check was skipped before it had anything).
        case none
    }

    public let check: Check
    public let outcome: Outcome
    public let evidence: Evidence

    public init(_ check: Check, _ outcome: Outcome, evidence: Evidence) {
        self.check = check
        self.outcome = outcome
        self.evidence = evidence
    }

    /// Whether the check failed (cheaper than asking for the denial).
    var isFailure: Bool {
        if case .failed = outcome { true } else { false }
    }

    /// The denial when the check failed.
    public var denial: Denial? {
        if case .failed(let denial) = outcome { denial } else { nil }
    }
}
