import Grants
import Testing

/// `NonceDigest`: the form of a spent nonce in memory, and its hex in the store
/// (docs/links.md, "Nonces"), which rows written before it must still match.
@Suite("OAuth 1.0a nonce digests: four words in memory, the same hex in the store")
struct NonceDigestTests {
    static let keys = ["c\u{0}t\u{0}1\u{0}n", "c\u{0}\u{0}1700000000\u{0}é", "", String(repeating: "k", count: 500)]

    @Test("its hex is the SHA-256 hex the store has always kept, and reads back as the same digest")
    func hexMatchesStoredRows() throws {
        for key in Self.keys {
            let digest = NonceDigest(key: key)
            #expect(digest.hex == SecretDigest.hex(key))
            #expect(NonceDigest(hex: digest.hex) == digest)
        }
        #expect(NonceDigest(key: "a") != NonceDigest(key: "b"))
    }

    @Test("digests order as their hex does, so gateways take PostgreSQL's row locks in one order")
    func orderFollowsHex() {
        let digests = (0..<200).map { NonceDigest(key: "c\u{0}t\u{0}1\u{0}n\($0)") }
        #expect(digests.sorted().map(\.hex) == digests.map(\.hex).sorted())
    }

    @Test("text other than 64 lowercase hex digits is no digest")
    func refusesOtherText() {
        let hex = NonceDigest(key: "k").hex
        for text in ["", String(hex.dropLast()), hex + "0", hex.uppercased(), "g" + hex.dropFirst()] {
            #expect(NonceDigest(hex: text) == nil, "\(text)")
        }
    }

    @Test("equal digests hash alike in a set")
    func hashing() {
        let set: Set = [NonceDigest(key: "x"), NonceDigest(key: "x"), NonceDigest(key: "y")]
        #expect(set.count == 2)
        #expect(set.contains(NonceDigest(hex: NonceDigest(key: "y").hex)!))
    }
}
