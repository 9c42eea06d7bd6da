import JWT
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    @Test("round trips every length up to 64 bytes")
    func roundTrip() throws {
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("="))
            #expect(try Base64URL.decode(encoded) == bytes)
        }
    }

    @Test("matches RFC 4648 test vectors in the URL alphabet")
    func vectors() throws {
        let cases: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
            ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(try Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test(
        "refuses padding, foreign characters, impossible lengths and non-zero trailing bits",
        arguments: ["Zg==", "Zm9v=", "Zm+v", "Zm/v", "Zm9 v", "Zm9v\n", "Z", "Zm9vY", "Zh", "Zm9", "Zm-", "é"])
    func strict(_ text: String) {
        #expect(jwtErrorCode { _ = try Base64URL.decode(text) } == .invalidBase64URL)
    }

    @Test("the error says where the bad character is")
    func messageNamesPosition() {
        #expect(throws: JWTError(.invalidBase64URL)) { try Base64URL.decode("ab=c") }
        do {
            _ = try Base64URL.decode("ab=c")
            Issue.record("accepted ab=c")
        } catch {
            #expect(error.reason.contains("position 2"))
        }
    }
}
