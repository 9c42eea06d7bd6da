import JWT
import Policy
import Scopes
import Synchronization

/// One loaded policy and everything the request path derives from it once:
/// the Connect verifier and the upstream targets. Immutable; a reload builds a
/// new snapshot off the request path and swaps it in (`LivePolicy`).
public final class PolicySnapshot: Sendable {
    public let policy: CompiledPolicy
    public let connectVerifier: ConnectJWTVerifier
    public let upstreams: [String: UpstreamTarget]
    /// 1 for the policy loaded at start, then one more per successful reload.
    public let generation: Int

    public init(_ policy: CompiledPolicy, generation: Int) throws(UpstreamTarget.Problem) {
        let settings = policy.document.gateway
        self.policy = policy
        self.connectVerifier = ConnectJWTVerifier(
            basePath: policy.basePath, clockSkew: Int64(settings.clockSkewSeconds),
            maxLifetime: Int64(settings.lifetimes.connectJwtMax),
            lookup: { [policy] issuer in policy.connectKey(forApp: issuer) })
        var upstreams: [String: UpstreamTarget] = [:]
        for spec in policy.document.upstreams { upstreams[spec.name] = try UpstreamTarget(spec) }
        self.upstreams = upstreams
        self.generation = generation
    }

    public var summary: String {
        let document = policy.document
        return "\(document.apps.count) apps (\(document.apps.filter(\.enabled).count) enabled), "
            + "\(document.routes.count) routes, \(document.upstreams.count) upstreams, \(document.users.count) users"
    }
}

/// The policy in force, swapped atomically on reload. Readers take the current
/// snapshot once per request and keep it for the whole request.
public final class LivePolicy: Sendable {
    private let current: Mutex<PolicySnapshot>

    public init(_ snapshot: PolicySnapshot) { current = Mutex(snapshot) }

    public var snapshot: PolicySnapshot { current.withLock { $0 } }

    public func replace(with snapshot: PolicySnapshot) { current.withLock { $0 = snapshot } }
}
