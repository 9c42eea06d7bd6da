import Testing

@testable import Scopes

@Suite("An encoded / inside a path segment is refused unless the route accepts it")
struct EncodedSlashTests {
    static func policy(allowing: Bool) throws -> DecisionPolicy {
        let routes = try RouteTable([
            RouteRule(
                index: 0, methods: ["GET"], path: "/files/{name}", upstream: "files", isPublic: true,
                allowsEncodedSlash: allowing)
        ])
        return DecisionPolicy(
            implication: try ScopeImplication(implies: [:]), permissions: PermissionTable([]), routes: routes)
    }

    static func decide(_ target: String, allowing: Bool) throws -> Decision {
        Scopes.decide(
            DecisionRequest(credential: .anonymous, user: nil, method: "GET", target: target),
            policy: try policy(allowing: allowing))
    }

    @Test(
        "%2F and %2f are a 400 encoded_slash; the trace names the route", arguments: ["/files/a%2Fb", "/files/a%2fb"])
    func refused(target: String) throws {
        let decision = try Self.decide(target, allowing: false)
        #expect(decision.denial == .encodedSlash)
        #expect(decision.denial?.status == 400 && decision.denial?.code == "encoded_slash")
        #expect(decision.trace.route?.rule.index == 0)
        #expect(decision.explanation.contains("DENY invalid_request (400)"))
    }

    @Test("a route with encodedSlash accepts it; other escapes are not slashes")
    func accepted() throws {
        #expect(try Self.decide("/files/a%2Fb", allowing: true).isAllowed)
        #expect(try Self.decide("/files/a%252Fb", allowing: false).isAllowed)
        #expect(try Self.decide("/files/a%2Eb", allowing: false).isAllowed)
    }
}
