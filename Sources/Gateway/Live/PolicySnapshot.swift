import Grants
import JWT
import Policy
import Scopes
import Synchronization

/// One loaded policy and everything the request path derives from it once:
/// the Connect verifier, the upstream targets and the grant objects. Immutable;
/// a reload builds a new snapshot off the request path and swaps it in (`LivePolicy`).
final class PolicySnapshot: Sendable {
    let policy: CompiledPolicy
    let connectVerifier: ConnectJWTVerifier
    let upstreams: [String: UpstreamTarget]
    /// The upstream of each route, by the route's index: no name hashed per request.
    private let upstreamOfRoute: [UpstreamTarget?]
    let grants: PolicyGrants
    /// The request-rewriting headers `gateway.json` lets through (`forwardClientHeaders`).
    let passedClientHeaders: Set<String>
    /// 1 for the policy loaded at start, then one more per successful reload.
    let generation: Int

    /// - Throws: `UpstreamTarget.Problem` for an upstream URL the forwarder cannot
    ///   use; `JWTError` when the signing key cannot issue access tokens.
    init(_ policy: CompiledPolicy, generation: Int, services: GrantServices) throws {
        let settings = policy.document.gateway
        self.policy = policy
        self.connectVerifier = ConnectJWTVerifier(
            basePath: policy.basePath, clockSkew: Int64(settings.clockSkewSeconds),
            maxLifetime: Int64(settings.lifetimes.connectJwtMax),
            lookup: { [policy] issuer in policy.connectKey(forApp: issuer) })
        var upstreams: [String: UpstreamTarget] = [:]
        for spec in policy.document.upstreams { upstreams[spec.name] = try UpstreamTarget(spec) }
        self.upstreams = upstreams
        let rules = policy.decision.routes.rules
        var upstreamOfRoute = [UpstreamTarget?](repeating: nil, count: (rules.map(\.index).max() ?? -1) + 1)
        for rule in rules { upstreamOfRoute[rule.index] = upstreams[rule.upstream] }
        self.upstreamOfRoute = upstreamOfRoute
        self.grants = try PolicyGrants(policy: policy, services: services)
        self.passedClientHeaders = Set(settings.forwardClientHeaders)
        self.generation = generation
    }

    /// Where requests matching `rule` go; nil when it names no known upstream.
    func upstream(of rule: RouteRule) -> UpstreamTarget? {
        upstreamOfRoute.indices.contains(rule.index) ? upstreamOfRoute[rule.index] : nil
    }

    /// The snapshot of `policy` that follows this one, with the same grant services.
    func next(_ policy: CompiledPolicy) throws -> PolicySnapshot {
        try PolicySnapshot(policy, generation: generation + 1, services: grants.services)
    }

    /// Who a Bearer access token acts as now, and its claims (`GrantServices.bearerIdentity`).
    func bearerIdentity(_ token: Substring) throws(GatewayError) -> (AccessToken, Identity) {
        try grants.services.bearerIdentity(
            token, policy: policy, generation: generation, verifier: grants.accessTokens)
    }

    var summary: String {
        let document = policy.document
        return "\(document.apps.count) apps (\(document.apps.filter(\.enabled).count) enabled), "
            + "\(document.routes.count) routes, \(document.upstreams.count) upstreams, \(document.users.count) users"
    }
}

/// The policy in force, swapped atomically on reload. Readers take the current
/// snapshot once per request and keep it for the whole request.
final class LivePolicy: Sendable {
    private let current: Mutex<PolicySnapshot>
    /// How many times the snapshot was replaced, bumped after each replacement: a
    /// reader that kept a snapshot sees whether it is still in force without the lock.
    private let replacements = Atomic<Int>(0)

    init(_ snapshot: PolicySnapshot) { current = Mutex(snapshot) }

    var snapshot: PolicySnapshot { current.withLock { $0 } }

    func replace(with snapshot: PolicySnapshot) {
        current.withLock { $0 = snapshot }
        replacements.wrappingAdd(1, ordering: .releasing)
    }

    /// The snapshot in force, read through `kept`: taken again only after a
    /// replacement, so the usual request takes no lock. A snapshot replaced between
    /// the count's load and the lock is kept with the older count, and taken again
    /// by the next read.
    func snapshot(through kept: inout KeptSnapshot?) -> PolicySnapshot {
        let seen = replacements.load(ordering: .acquiring)
        if let kept, kept.replacements == seen { return kept.snapshot }
        let snapshot = self.snapshot
        kept = KeptSnapshot(snapshot: snapshot, replacements: seen)
        return snapshot
    }
}

/// The snapshot one reader keeps (an event loop's byte path), with the count of
/// replacements it was taken at (`LivePolicy.snapshot(through:)`).
struct KeptSnapshot {
    let snapshot: PolicySnapshot
    let replacements: Int
}
