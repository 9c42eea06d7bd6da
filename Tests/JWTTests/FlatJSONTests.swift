import TestSupport
import Testing

@testable import JWT

/// The flat-object reader must never disagree with jansson: whatever it reads,
/// jansson reads alike (same members, same order), and whatever jansson refuses,
/// it leaves to jansson (docs/jwt.md, "What a token must look like").
@Suite("Flat JSON reader")
struct FlatJSONTests {
    /// The reader's answer and jansson's, for one text.
    static func compare(_ text: [UInt8]) -> (flat: JSONObject?, jansson: Result<JSONValue, JWTError>) {
        let flat = text.withUnsafeBytes { JSONObject.parseFlat($0) }
        let jansson = Result { () throws(JWTError) in try JSONValue.parse(text, limits: .token) }
        return (flat, jansson)
    }

    static func expectAgreement(_ text: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let (flat, jansson) = compare(text)
        guard let flat else { return }
        let shown = String(decoding: text, as: UTF8.self)
        guard case .success(.object(let object)) = jansson else {
            Issue.record("read \(shown) that jansson refuses or reads as a non-object", sourceLocation: sourceLocation)
            return
        }
        #expect(flat == object, "\(shown)", sourceLocation: sourceLocation)
        #expect(flat.keys == object.keys, "\(shown)", sourceLocation: sourceLocation)
    }

    @Test(
        "reads the common shapes as jansson does",
        arguments: [
            #"{"alg":"HS256","typ":"JWT"}"#,
            #"{"iss":"com.example","iat":1700000000,"exp":1700000180,"qsh":"abc","sub":null,"x":true,"y":false}"#,
            "{}", " { } ", "\t{\n\"a\" : -0 ,\r\"b\":0}\n", #"{"a":-12,"b":123456789012345678}"#,
            #"{"":"","~":" !#$%&'()*+,-./:;<=>?@[]^_`{|}~"}"#,
        ])
    func reads(_ text: String) {
        let (flat, _) = Self.compare(Array(text.utf8))
        #expect(flat != nil, "\(text)")
        Self.expectAgreement(Array(text.utf8))
    }

    @Test(
        "leaves everything else to jansson",
        arguments: [
            #"{"a":"b","a":"c"}"#, #"{"a":"\u0041"}"#, #"{"a":"é"}"#, #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":01}"#,
            #"{"a":1234567890123456789}"#, #"{"a":[1]}"#, #"{"a":{}}"#, #"{"a":"b"} x"#, #"{"a":"b",}"#,
            #"{"a" "b"}"#, #"{"a":tru}"#, #"{"a":truex}"#, #"{"a":-}"#, #"{"a":"x\#u{7F}"}"#, "[1]", "\"a\"", "",
            "{\"a\":\"\t\"}", #"{a:1}"#, "{\"a\":1", #"{"a":nul}"#, #"{"a":+1}"#, #"{"a":1-}"#,
        ])
    func leaves(_ text: String) {
        let (flat, _) = Self.compare(Array(text.utf8))
        #expect(flat == nil, "\(text)")
    }

    @Test("reads a string eight bytes at a time: every byte at every position of long keys and values")
    func everyByteInLongStrings() {
        for byte in UInt8(0)...UInt8(255) {
            let plain = byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            for position in 0..<26 {
                var string = [UInt8](repeating: UInt8(ascii: "a"), count: 26)
                string[position] = byte
                // A second odd byte in a later word, so a word's test must see the first.
                var twice = string
                twice[(position + 9) % 26] = UInt8(ascii: "\"")
                for text in [
                    Array(#"{"k":""#.utf8) + string + Array(#"","z":1}"#.utf8),
                    Array(#"{""#.utf8) + string + Array(#"":1}"#.utf8),
                    Array(#"{"k":""#.utf8) + twice + Array(#""}"#.utf8),
                ] {
                    let (flat, _) = Self.compare(text)
                    if text.count == 4 + 26 + 10, text[1] == UInt8(ascii: "\""), text[2] == UInt8(ascii: "k") {
                        #expect((flat != nil) == plain, "byte \(byte) at \(position)")
                    }
                    Self.expectAgreement(text)
                }
            }
        }
    }

    @Test("agrees with jansson on 20,000 random texts and one-byte mutations of flat objects")
    func randomTexts() {
        var random = SeededGenerator(seed: 0x5EED)
        let pieces: [String] = [
            "{", "}", ":", ",", " ", "\n", "\"", "\\", "a", "iss", "\"iss\"", "\"qsh\"", "\"x\"", "1", "0", "-", "18",
            "123456789012345678", "9", ".", "e", "true", "false", "null", "[", "]", "é", "\u{0}", "\t",
        ]
        for _ in 0..<10_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            Self.expectAgreement(Array(text.utf8))
        }
        let base = Array(
            #"{"iss":"com.example.app","iat":1700000000,"exp":1700000180,"jti":"j-1","qsh":"0a1b","n":null}"#.utf8)
        let replacements = Array("{}[]:,\" \\-.e0123456789aznulltrue".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0x09, 0x0A]
        for _ in 0..<10_000 {
            var text = base
            let position = Int(random.next() % UInt64(text.count))
            switch random.next() % 3 {
            case 0: text[position] = replacements[Int(random.next() % UInt64(replacements.count))]
            case 1: text.remove(at: position)
            default: text.insert(replacements[Int(random.next() % UInt64(replacements.count))], at: position)
            }
            Self.expectAgreement(text)
        }
    }
}
