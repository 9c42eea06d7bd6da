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

    /// An ASCII path's start is compared as bytes, any other as `String` compares
    /// it; both must say what `String.hasPrefix` and the segment match say.
    @Test("ASCII and other paths are found alike: bytes where both are ASCII, String comparison otherwise")
    func asciiAndOtherPaths() {
        let pieces = [
            "/connect-install-keys/", "/connect-install-key", "/connect-install-keys", "x", "/", "\u{212A}", "\u{00E9}",
            "e\u{0301}", "\u{0301}", "%2F", "k",
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let path = (0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let expected =
                path.hasPrefix("/connect-install-keys/")
                && EndpointPaths.matches(path[...], template: "/connect-install-keys/{kid}")
            #expect(paths.contains(path[...]) == expected, "\(path.debugDescription)")
        }
        #expect(paths.contains("/connect-install-keys/\u{212A}"))
        // KELVIN SIGN is canonically equivalent to `K`: as a `String` (and the router) compares it, this
        // path begins as the template does, which a comparison of bytes would deny.
        #expect(EndpointPaths(["/Keys/{kid}"]).contains("/\u{212A}eys/a"))
        #expect(!paths.contains("/connect-install-\u{212A}eys/a"))
    }

    /// Exact paths are looked up by length first where both sides are ASCII; the
    /// answer must be `String` equality's, lookalikes included.
    @Test("an exact path is found as String equality finds it, whichever its length and letters")
    func exactPathsAsStringsCompare() {
        let exact = ["/oauth2/token", "/K/x", "/ab", "/a\u{00E9}"]
        let endpoints = EndpointPaths(exact)
        let pieces = ["/", "K", "\u{212A}", "x", "a", "b", "e\u{0301}", "\u{00E9}", "/oauth2/token"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let path = (0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            #expect(endpoints.contains(path[...]) == exact.contains(path), "\(path.debugDescription)")
        }
        #expect(endpoints.contains("/\u{212A}/x"))
        #expect(endpoints.contains("/ae\u{0301}"))
        #expect(!endpoints.contains("/abc"))
    }
}
