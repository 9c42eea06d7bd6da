import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWT
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Policy
import Testing

@testable import Gateway

/// The fast path (`DataPlaneHandler`) and the Hummingbird path (`ProxyResponder`
/// behind the router) answer the same refused requests the same way: status,
/// `error`, challenges and the access log's reason (docs/architecture.md, "One
/// request on the main listener"). Each case is sent through both.
@Suite("The fast path and the Hummingbird path refuse alike")
struct FastPathAgreementTests {
    static let project = "/rest/api/3/project/PROJ"

    /// A request the gateway refuses, with what makes it refused.
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let method: String
        let target: String
        let headers: [(String, String)]
        /// The expected reason in the access log.
        let reason: String
    }

    /// One answer, as either path gives it.
    struct Answer: Equatable, CustomStringConvertible {
        let status: Int
        let error: String?
        let challenges: [String]
        let reason: String?

        var description: String { "\(status) \(error ?? "-") \(challenges) reason=\(reason ?? "-")" }
    }

    static func cases() throws -> [Case] {
        let harness = try RequestPathHarness.tokens()
        return [
            Case(
                description: "no credential", method: "GET", target: project, headers: [], reason: "unauthenticated"),
            Case(
                description: "a malformed Connect JWT", method: "GET", target: project,
                headers: [("Authorization", "JWT not.a.jwt")], reason: "invalid_base64url"),
            Case(
                description: "a qsh for another request", method: "GET", target: project,
                headers: [("Authorization", "JWT \(harness.other)")], reason: "qsh_mismatch"),
            Case(
                description: "a malformed Bearer token", method: "GET", target: project,
                headers: [("Authorization", "Bearer abc")], reason: "malformed_token"),
            Case(
                description: "DELETE with READ scope only", method: "DELETE", target: project,
                headers: [("Authorization", "JWT \(harness.delete)")], reason: "insufficient_scope"),
            Case(
                description: "no route", method: "GET", target: "/nowhere",
                headers: [("Authorization", "JWT \(harness.nowhere)")], reason: "no_route"),
            Case(
                description: "two credentials", method: "GET", target: project + "?jwt=a",
                headers: [("Authorization", "Bearer b")], reason: "two_credentials"),
            Case(
                description: "a bad percent escape", method: "GET", target: "/rest/%zz", headers: [],
                reason: "path_not_normalized"),
            Case(
                description: "dot segments", method: "GET", target: "/static/../rest", headers: [],
                reason: "path_not_normalized"),
            Case(
                description: "a fragment in the target", method: "GET", target: project + "#x", headers: [],
                reason: "bad_target"),
            Case(
                description: "a head over 16 KiB", method: "GET", target: project,
                headers: [("X-Big", String(repeating: "a", count: 17_000))], reason: "headers_too_large"),
            Case(
                description: "OAuth 1.0a from an unknown consumer", method: "GET", target: project,
                headers: [("Authorization", oauth1(consumer: "nobody"))], reason: "consumer_key_unknown"),
            Case(
                description: "OAuth 1.0a with a signature that does not verify", method: "GET", target: project,
                headers: [("Authorization", oauth1(consumer: "wiki-applink"))], reason: "signature_invalid"),
            Case(
                description: "OAuth 1.0a with a stale timestamp", method: "GET", target: project,
                headers: [("Authorization", oauth1(consumer: "wiki-applink", age: 3600))],
                reason: "timestamp_refused"),
            Case(
                description: "OAuth 1.0a with HMAC-SHA1", method: "GET", target: project,
                headers: [("Authorization", oauth1(consumer: "wiki-applink", method: "HMAC-SHA1"))],
                reason: "signature_method_rejected"),
        ]
    }

    /// An OAuth 1.0a header signed with nothing: refused before its nonce is spent.
    static func oauth1(consumer: String, age: Int = 0, method: String = "RSA-SHA1") -> String {
        let timestamp = Int(Date().timeIntervalSince1970) - age
        return """
            OAuth oauth_consumer_key="\(consumer)", oauth_signature_method="\(method)", \
            oauth_signature="QUJDRA%3D%3D", oauth_timestamp="\(timestamp)", oauth_nonce="n\(UUID().uuidString)", \
            oauth_version="1.0"
            """
    }

    @Test("each refusal is answered alike by both paths", arguments: try cases())
    func agreement(_ refused: Case) async throws {
        let harness = try await RequestPathHarness()
        let fast = try harness.fastPath(refused)
        let router = try await harness.test { client in
            try await harness.routerPath(refused, client: client)
        }
        #expect(fast == router, "fast: \(fast); router: \(router)")
        #expect(fast.reason == refused.reason, "\(fast)")
        #expect(harness.upstream.requests.isEmpty, "a refusal never reaches the upstream")
    }
}

extension RequestPathHarness {
    /// Connect JWTs for the agreement cases, signed for other requests than the ones they are sent with.
    struct Tokens {
        let other: String
        let delete: String
        let nowhere: String
    }

    static func tokens() throws -> Tokens {
        let policy = try PolicyLoader.compile(folder: ExampleSite.folder, environment: [:])
        let secret = try #require(policy.app(key: reportsKey)?.sharedSecret?.bytes)
        let signer = ConnectJWTSigner(issuer: reportsKey, key: try JWTKey.secret(secret, algorithm: .hs256))
        let project = FastPathAgreementTests.project
        return Tokens(
            other: try signer.token(method: "GET", rawPath: "/elsewhere", rawQuery: ""),
            delete: try signer.token(method: "DELETE", rawPath: project[...], rawQuery: ""),
            nowhere: try signer.token(method: "GET", rawPath: "/nowhere", rawQuery: ""))
    }

    /// `refused` through `DataPlaneHandler` on an embedded channel, with the
    /// `Host` the router test client gives every request (`localhost`).
    func fastPath(_ refused: FastPathAgreementTests.Case) throws -> FastPathAgreementTests.Answer {
        let before = accessLog.all.count
        let channel = EmbeddedChannel(handler: DataPlaneHandler(plane: plane, readCounter: ReadCounter()), loop: loop)
        defer { _ = try? channel.finish() }
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: refused.method), uri: refused.target,
            headers: HTTPHeaders([("Host", "localhost")] + refused.headers))
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        var status = 0
        var challenges: [String] = []
        var body = ByteBuffer()
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .head(let answer):
                status = Int(answer.status.code)
                challenges = answer.headers["WWW-Authenticate"]
            case .body(.byteBuffer(var buffer)): body.writeBuffer(&buffer)
            case .body, .end: break
            }
        }
        let lines = accessLog.all.dropFirst(before)
        return FastPathAgreementTests.Answer(
            status: status, error: Self.errorMember(String(buffer: body)), challenges: challenges,
            reason: lines.last?.metadata["reason"])
    }

    /// `refused` through Hummingbird's router, as the router test client sends it.
    func routerPath(
        _ refused: FastPathAgreementTests.Case, client: some TestClientProtocol
    ) async throws -> FastPathAgreementTests.Answer {
        let before = accessLog.all.count
        let response = try await client.send(
            HTTPRequest.Method(refused.method)!, refused.target, headers: refused.headers)
        let lines = accessLog.all.dropFirst(before)
        return FastPathAgreementTests.Answer(
            status: response.status.code, error: response.json["error"] as? String,
            challenges: response.headers[values: .wwwAuthenticate], reason: lines.last?.metadata["reason"])
    }

    static func errorMember(_ body: String) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return json?["error"] as? String
    }
}
