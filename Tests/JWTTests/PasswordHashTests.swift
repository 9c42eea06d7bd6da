import Testing

@testable import JWT

@Suite("Password hashes (scrypt, PBKDF2-SHA256)")
struct PasswordHashTests {
    @Test("a hash matches its password only, and reads back from its text form")
    func roundTrip() throws {
        let hash = try PasswordHash.make("correct horse battery staple")
        #expect(hash.description.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        let parsed = try PasswordHash(parsing: hash.description)
        #expect(parsed == hash)
        #expect(parsed.matches("correct horse battery staple"))
        #expect(!parsed.matches("correct horse battery stapl"))
        #expect(!parsed.matches(""))
        #expect(try PasswordHash.make("same").description != PasswordHash.make("same").description, "salted")
    }

    @Test("PBKDF2-SHA256 hashes verify too")
    func pbkdf2() throws {
        let hash = try PasswordHash.make("pw", scheme: .pbkdf2SHA256(iterations: 10_000))
        #expect(hash.description.hasPrefix("$pbkdf2-sha256$i=10000$"))
        #expect(try PasswordHash(parsing: hash.description).matches("pw"))
    }

    /// RFC 7914 §12's scrypt vector (N = 16 is below the accepted cost, so derive is called directly),
    /// and RFC 6070-style PBKDF2-HMAC-SHA256 (from RFC 7914 §11).
    @Test("the primitives match the RFCs' vectors")
    func vectors() throws {
        let scrypt = try PasswordHash.derive(
            Array("password".utf8), salt: Array("NaCl".utf8),
            scheme: .scrypt(logN: 10, r: 8, p: 16), length: 64)
        #expect(Hex.lowercase(scrypt).hasPrefix("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"))
        let pbkdf2 = try PasswordHash.derive(
            Array("passwd".utf8), salt: Array("salt".utf8),
            scheme: .pbkdf2SHA256(iterations: 1), length: 64)
        #expect(Hex.lowercase(pbkdf2).hasPrefix("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"))
    }

    @Test(
        "malformed or too cheap hashes are refused with a reason",
        arguments: [
            "", "plain", "$scrypt$ln=15,r=8,p=1$c2FsdA", "$md5$x$y$z",
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHQ$" + String(repeating: "A", count: 43),
            "$pbkdf2-sha256$i=1$c2FsdHNhbHQ$" + String(repeating: "A", count: 43), "$scrypt$ln=15,r=8$c2FsdHNhbHQ$AAAA",
            "$scrypt$ln=15,r=8,p=1$!!$" + String(repeating: "A", count: 43),
        ])
    func malformed(_ text: String) {
        #expect(throws: JWTError.self) { try PasswordHash(parsing: text) }
    }
}
