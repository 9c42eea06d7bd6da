// The JSON layer over jansson (docs/testing.md, "Fuzzing"; docs/jwt.md): depth, size
// and duplicate-key limits, and the flat-object reader of the token hot path.
//
// Beyond "no crash": what the token limits accept the document limits accept alike;
// an accepted document is no deeper than its limit and reads back the same from its
// compact and pretty serialisations; and whatever the flat reader reads, jansson
// reads the same, members in the same order.
@testable import JWT

func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let token = try? JSONValue.parse(buffer: bytes, limits: .token)
    let document: JSONValue?
    do {
        document = try JSONValue.parse(buffer: bytes, limits: .document)
    } catch {
        precondition(token == nil, "the token limits accept what the document limits refuse: \(error)")
        document = nil
    }
    if let token {
        precondition(document == token, "the two limits read different values")
        precondition(depth(of: token) <= JSONLimits.token.maxDepth, "a token document deeper than its limit")
        checkRoundTrip(token)
    }
    if let document {
        precondition(depth(of: document) <= JSONLimits.document.maxDepth, "a document deeper than its limit")
    }
    if let flat = JSONObject.parseFlat(bytes) {
        guard case .object(let object) = token else {
            preconditionFailure("the flat reader accepts what jansson refuses or reads as \(token?.typeName ?? "nil")")
        }
        precondition(object == flat && object.keys == flat.keys, "the flat reader and jansson read different members")
    }
    return 0
}

private func depth(of value: JSONValue) -> Int {
    switch value {
    case .array(let elements): 1 + (elements.map(depth(of:)).max() ?? 0)
    case .object(let object): 1 + (object.map { depth(of: $0.value) }.max() ?? 0)
    default: 0
    }
}

private func checkRoundTrip(_ value: JSONValue) {
    for layout in [JSONValue.Layout.compact, .pretty] {
        let text = value.serializedBytes(layout)
        guard let again = try? JSONValue.parse(text, limits: .document) else {
            preconditionFailure("the serialisation of a parsed value does not parse")
        }
        precondition(again == value, "a parsed value does not read back the same")
        if layout == .compact, case .object(let object) = value, case .object(let reread) = again {
            precondition(object.keys == reread.keys, "serialising reorders members")
        }
    }
}
