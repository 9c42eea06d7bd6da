/// The answer for one request: ALLOW, or DENY with a reason and a status, and
/// the trace of how it was reached.
public struct Decision: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        case allow
        case deny(Denial)
    }

    public let outcome: Outcome
    public let trace: DecisionTrace

    /// The outcome is the first failed verdict's denial, or ALLOW when none failed.
    public init(trace: DecisionTrace) {
        self.trace = trace
        self.outcome = Self.outcome(of: trace.verdicts)
    }

    /// The first failed verdict's denial, or ALLOW; the verdicts read in place, not copied.
    private static func outcome(of verdicts: [Verdict]) -> Outcome {
        for index in verdicts.indices {
            if case .failed(let denial) = verdicts[index].outcome { return .deny(denial) }
        }
        return .allow
    }

    public var isAllowed: Bool { outcome == .allow }

    /// The denial, when denied.
    public var denial: Denial? {
        if case .deny(let denial) = outcome { denial } else { nil }
    }
}

/// Decides one request: a credential refused beforehand, then route, then
/// credential, then scopes, then permission, stopping at the first check that fails.
///
/// Pure and synchronous. The caller has already verified the credential and
/// refused disabled apps and inactive users (docs/gateway.md §3): those depend on the
/// store and the live policy, not on the route.
public func decide(_ request: consuming DecisionRequest, policy: DecisionPolicy) -> Decision {
    // Straight-line on purpose: each verdict is moved into the trace after its
    // last look, and so is the request (consumed), so a decision copies neither
    // (and retains nothing twice).
    var verdicts: [Verdict] = []
    verdicts.reserveCapacity(Verdict.Check.allCases.count)
    if let refusal = request.credentialRefusal {
        verdicts.append(
            Verdict(
                .credential, .failed(.credentialRefused(refusal)),
                evidence: .credential(request.credential, user: request.user)))
        return Decision(trace: DecisionTrace(request: consume request, verdicts: verdicts))
    }
    let route = RouteCheck(routes: policy.routes).verdict(for: request)
    guard case .route(let match?) = route.evidence else {
        verdicts.append(route)
        return Decision(trace: DecisionTrace(request: consume request, verdicts: verdicts))
    }
    verdicts.append(route)
    for check in [Verdict.Check.credential, .scope, .permission] {
        let verdict =
            switch check {
            case .credential: CredentialCheck(match: match).verdict(for: request)
            case .scope: ScopeCheck(implication: policy.implication, rule: match.rule).verdict(for: request)
            case .permission, .route:
                PermissionCheck(permissions: policy.permissions, match: match).verdict(for: request)
            }
        let failed = verdict.isFailure
        verdicts.append(verdict)
        if failed { break }
    }
    return Decision(trace: DecisionTrace(request: consume request, verdicts: verdicts))
}
