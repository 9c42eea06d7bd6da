/// Refuses a Connect context token on a route without `contextJwt`; then lets
/// anyone onto a public route; elsewhere, needs a credential with an acting user
/// (401 otherwise), and on a route with an `appKeyParameter`, a credential of the
/// app that parameter names (403 otherwise). Whether the credential is valid, the
/// app enabled and the user active was settled before deciding
/// (`DecisionRequest.credentialRefusal`).
public struct CredentialCheck: Sendable {
    public let match: RouteMatch

    public init(match: RouteMatch) { self.match = match }

    public var rule: RouteRule { match.rule }

    public func verdict(for request: DecisionRequest) -> Verdict {
        let evidence = Verdict.Evidence.credential(request.credential, user: request.user)
        if request.isContextToken, !rule.contextJWT {
            return Verdict(.credential, .failed(.contextTokenNotAllowed), evidence: evidence)
        }
        if rule.isPublic { return Verdict(.credential, .passed, evidence: evidence) }
        guard request.credential != .anonymous, request.user != nil else {
            return Verdict(.credential, .failed(.unauthenticated), evidence: evidence)
        }
        if let parameter = rule.appKeyParameter, !namesCallingApp(parameter, appKey: request.appKey) {
            let denial = Denial.notCallingApp(parameter: parameter, credentialHasApp: request.appKey != nil)
            return Verdict(.credential, .failed(denial), evidence: evidence)
        }
        return Verdict(.credential, .passed, evidence: evidence)
    }

    /// Whether the path parameter, percent-decoded, is the calling app's key
    /// exactly. A credential without an app (Basic) names no app.
    private func namesCallingApp(_ parameter: String, appKey: String?) -> Bool {
        guard let appKey, let raw = match[parameter: parameter] else { return false }
        return PercentDecoding.decode(raw, plusAsSpace: false) == appKey
    }
}
