/// Passes when the credential holds, after implication, any one of the route's
/// scope alternatives. Skipped on public routes and for credentials that carry
/// no scopes (Basic, OAuth 1.0a).
public struct ScopeCheck: Sendable {
    public let implication: ScopeImplication
    public let rule: RouteRule

    public init(implication: ScopeImplication, rule: RouteRule) {
        self.implication = implication
        self.rule = rule
    }

    public func verdict(for request: DecisionRequest) -> Verdict {
        if rule.isPublic {
            return Verdict(
                .scope, .skipped(.publicRoute), evidence: .scope(required: rule.scopes, heldAfterImplication: nil))
        }
        if request.credential.skipsScopeTest {
            return Verdict(
                .scope, .skipped(.credentialWithoutScopes(request.credential)),
                evidence: .scope(required: rule.scopes, heldAfterImplication: nil))
        }
        let held = request.impliedScopes ?? implication.closure(of: request.heldScopes)
        let evidence = Verdict.Evidence.scope(required: rule.scopes, heldAfterImplication: held)
        guard rule.scopes.contains(where: held.contains) else {
            return Verdict(.scope, .failed(.insufficientScope(required: rule.scopes)), evidence: evidence)
        }
        return Verdict(.scope, .passed, evidence: evidence)
    }
}
