import Testing

@testable import JWT

/// HS256 MACs are made from SHA-256 states keyed once (`HMACKey`,
/// `linkgate_hmac_sha256` in Sources/COpenSSL/shim.h), not through `EVP_MAC`: they
/// must be RFC 2104's HMAC for every key and message length.
@Suite("HS256 from keyed SHA-256 states")
struct HMACSHA256StatesTests {
    /// RFC 2104 written out over `Digest.sha256` (OpenSSL's `EVP_Digest`).
    static func reference(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? Digest.sha256.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = Digest.sha256.hash(block.map { $0 ^ 0x36 } + message)
        return Digest.sha256.hash(block.map { $0 ^ 0x5C } + inner)
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    @Test("RFC 4231 test cases 1 to 4, 6 and 7")
    func rfc4231() throws {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            (
                [UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                Array(1...25), [UInt8](repeating: 0xCD, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                [UInt8](repeating: 0xAA, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                [UInt8](repeating: 0xAA, count: 131),
                Array(
                    ("This is a test using a larger than block-size key and a larger than block-size data. "
                        + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ]
        for (key, data, mac) in cases {
            let jwtKey = try JWTKey.secret(key)
            #expect(try jwtKey.sign(data) == Self.bytes(mac))
            #expect(jwtKey.verify(signature: Self.bytes(mac), signingInput: data))
        }
    }

    @Test("every key length up to 150 bytes and message length up to 300 bytes agree with RFC 2104")
    func everyLength() throws {
        for keyLength in 1...150 {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: 0x41 &+ $0 &* 7 &+ keyLength) }
            let jwtKey = try JWTKey.secret(key)
            for messageLength in 0...300 where keyLength % 10 == 0 || messageLength % 17 == 0 || keyLength > 60 {
                let message = (0..<messageLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ keyLength) }
                let expected = Self.reference(key: key, message: message)
                #expect(try jwtKey.sign(message) == expected, "key \(keyLength) bytes, message \(messageLength) bytes")
                #expect(jwtKey.verify(signature: expected, signingInput: message))
                var wrong = expected
                wrong[messageLength % 32] ^= 0x01
                #expect(!jwtKey.verify(signature: wrong, signingInput: message))
            }
        }
    }

    @Test("HS384 and HS512 keep EVP_MAC and still agree with the published examples' digests")
    func otherDigestsUnchanged() throws {
        // RFC 4231 test case 2 for HMAC-SHA-384 and HMAC-SHA-512.
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        #expect(
            try JWTKey.secret(key, algorithm: .hs384).sign(data)
                == Self.bytes(
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"))
        #expect(
            try JWTKey.secret(key, algorithm: .hs512).sign(data)
                == Self.bytes(
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
                ))
    }
}
