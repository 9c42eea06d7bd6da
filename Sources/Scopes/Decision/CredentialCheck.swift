/// Refuses a Connect context token on a route without `contextJwt`; then lets
/// anyone onto a public route; elsewhere, needs a credential with an acting user
/// (401 otherwise). Whether the credential is valid, the app enabled and the
/// user active was settled before deciding (`DecisionRequest.credentialRefusal`).
public struct CredentialCheck: Sendable {
    public let rule: RouteRule

    public init(rule: RouteRule) { self.rule = rule }

    public func verdict(for request: DecisionRequest) -> Verdict {
        let evidence = Verdict.Evidence.credential(request.credential, user: request.user)
        if request.isContextToken, !rule.contextJWT {
            return Verdict(.credential, .failed(.contextTokenNotAllowed), evidence: evidence)
        }
        if rule.isPublic { return Verdict(.credential, .passed, evidence: evidence) }
        guard request.credential != .anonymous, request.user != nil else {
            return Verdict(.credential, .failed(.unauthenticated), evidence: evidence)
        }
        return Verdict(.credential, .passed, evidence: evidence)
    }
}
