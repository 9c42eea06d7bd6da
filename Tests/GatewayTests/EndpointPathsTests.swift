import Testing

@testable import Gateway

/// The gateway's own endpoints are found by their exact path, or by a template
/// whose `{name}` is one segment (docs/gateway.md §6).
@Suite("Endpoint paths: exact paths and one-segment templates")
struct EndpointPathsTests {
    let paths = EndpointPaths(["/oauth2/token", "/connect-install-keys/{kid}"])

    @Test("exact paths and one-segment parameters are endpoints; other spellings are not")
    func matching() {
        #expect(paths.contains("/oauth2/token"))
        #expect(paths.contains("/connect-install-keys/lg-install-abc"))
        #expect(!paths.contains("/connect-install-keys/"))
        #expect(!paths.contains("/connect-install-keys"))
        #expect(!paths.contains("/connect-install-keys/a/b"))
        #expect(!paths.contains("/connect-install-keys//a"))
        #expect(!paths.contains("/oauth2/token/"))
        #expect(!paths.contains("/Connect-install-keys/a"))
        #expect(EndpointPaths.matches("/connect-install-keys/x", template: "/connect-install-keys/{kid}"))
        #expect(EndpointPaths.matches("/oauth2/token", template: "/oauth2/token"))
        #expect(!EndpointPaths.matches("/oauth2/token2", template: "/oauth2/token"))
    }
}
