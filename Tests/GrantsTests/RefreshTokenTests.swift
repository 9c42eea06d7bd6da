import Testing

@testable import Grants

@Suite("Refresh tokens name their family")
struct RefreshTokenTests {
    @Test("a new token names its family, with 32 random bytes after the dot")
    func made() {
        let token = RefreshToken.make(family: "Zx9_family-Id")
        #expect(RefreshToken.family(of: token) == "Zx9_family-Id")
        #expect(token.utf8.count == "Zx9_family-Id.".utf8.count + 43)
        #expect(RefreshToken.make(family: "f") != RefreshToken.make(family: "f"))
    }

    @Test(
        "a token of the earlier form, or with an empty or overlong part, names no family",
        arguments: ["random-part-only", ".secret", "family.", "", String(repeating: "f", count: 65) + ".secret"])
    func noFamily(token: String) {
        #expect(RefreshToken.family(of: token) == nil)
    }

    @Test("the family is what precedes the first dot")
    func firstDot() {
        #expect(RefreshToken.family(of: "fam.se.cret") == "fam")
        #expect(RefreshToken.family(of: String(repeating: "f", count: 64) + ".s") == String(repeating: "f", count: 64))
    }
}
