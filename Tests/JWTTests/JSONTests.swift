import JWT
import Testing

@Suite("JSON through jansson")
struct JSONTests {
    @Test("parses every JSON type and keeps member order")
    func parsesTypes() throws {
        let value = try JSONValue.parse(#"{"z":1,"a":[true,false,null],"s":"é\u00e9","n":1.5,"o":{}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "a", "s", "n", "o"])
        #expect(value["z"] == .integer(1))
        #expect(value["a"] == [true, false, .null])
        #expect(value["s"]?.stringValue == "éé")
        #expect(value["n"]?.doubleValue == 1.5)
        #expect(value["o"] == .object(JSONObject()))
    }

    @Test("refuses duplicate keys, with the place")
    func duplicates() {
        #expect(throws: JWTError(.duplicateKey)) { try JSONValue.parse(#"{"iss":"a","iss":"b"}"#) }
        #expect(throws: JWTError(.duplicateKey)) { try JSONValue.parse(#"{"o":{"k":1,"k":2}}"#) }
    }

    @Test("refuses nesting deeper than the limit, including 10,000 levels")
    func depth() {
        let limits = JSONLimits(maxBytes: 1 << 20, maxDepth: 4)
        #expect(throws: Never.self) { try JSONValue.parse("[[[[1]]]]", limits: limits) }
        #expect(throws: JWTError(.jsonTooDeep)) { try JSONValue.parse("[[[[[1]]]]]", limits: limits) }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JWTError(.jsonTooDeep)) { try JSONValue.parse(deep, limits: .document) }
    }

    @Test("refuses documents over the size limit before parsing")
    func size() {
        let limits = JSONLimits(maxBytes: 10, maxDepth: 4)
        #expect(throws: JWTError(.jsonTooLarge)) { try JSONValue.parse(#"{"a":"0123456789"}"#, limits: limits) }
    }

    @Test(
        "reports syntax errors with line and column",
        arguments: [
            "{", #"{"a":}"#, "[1,]", #"{"a":1} x"#, "", #""\u0000""#, "99999999999999999999",
        ])
    func syntax(_ text: String) {
        do {
            _ = try JSONValue.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidJSON)
            #expect(error.reason.contains("line"))
        }
    }

    @Test("serialises compactly in member order and round trips")
    func serialises() throws {
        let value: JSONValue = ["alg": "HS256", "typ": "JWT", "n": 3, "l": [1, "x", .null, true], "s": "a\"b/é"]
        #expect(value.serialized() == #"{"alg":"HS256","typ":"JWT","n":3,"l":[1,"x",null,true],"s":"a\"b/é"}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(try JSONValue.parse(value.serialized(.pretty)) == value)
    }
}
