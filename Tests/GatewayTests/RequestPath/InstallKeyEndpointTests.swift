import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `GET /connect-install-keys/{kid}` (docs/connect-install.md §3), in-process:
/// the store's install key as PEM, 404 for any other kid, never proxied.
@Suite("The request path in-process: the Connect install key endpoint")
struct InstallKeyEndpointTests {
    @Test("the install key's public key as PEM; an unknown kid is a 404 not_found; other paths go to the proxy")
    func installKey() async throws {
        let harness = try await RequestPathHarness()
        let key = try await harness.store.connectInstallKey()
        let kid = try #require(key.keyID)
        #expect(harness.plane.endpointPaths.contains("/connect-install-keys/\(kid)"[...]))
        try await harness.test { client in
            let found = try await client.send(.get, "/connect-install-keys/\(kid)")
            #expect(found.status == .ok)
            #expect(found.text == key.publicKeyPEM())
            #expect(found.headers[.contentType] == "application/x-pem-file")
            let unknown = try await client.send(.get, "/connect-install-keys/lg-install-unknown")
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] as? String == "not_found")
            let post = try await client.send(.post, "/connect-install-keys/\(kid)")
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow] == "GET, HEAD")
            let deeper = try await client.send(.get, "/connect-install-keys/\(kid)/x")
            #expect(deeper.status == .notFound)
        }
        #expect(
            harness.accessLog.all.map { $0.metadata["reason"] } == [
                "install_key", "unknown_install_key", "method_not_allowed", "no_route",
            ])
        #expect(harness.upstream.requests.isEmpty)
    }
}
