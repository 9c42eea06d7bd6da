internal import CJansson

/// Limits on a JSON document, applied while parsing.
public struct JSONLimits: Sendable, Hashable {
    /// Largest accepted document, in bytes.
    public var maxBytes: Int
    /// Deepest accepted nesting of arrays and objects (the top level is depth 1).
    public var maxDepth: Int

    public init(maxBytes: Int, maxDepth: Int) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    /// For JOSE headers and claim sets.
    public static let token = JSONLimits(maxBytes: 8 * 1024, maxDepth: 16)
    /// For policy files, JWKS documents and other configuration.
    public static let document = JSONLimits(maxBytes: 16 * 1024 * 1024, maxDepth: 64)
}

extension JSONValue {
    /// Parses a JSON text with jansson, refusing duplicate object keys, NUL
    /// characters in strings, integers that overflow 64 bits, documents larger
    /// or deeper than `limits`.
    /// - Throws: `JWTError` with code `invalidJSON`, `duplicateKey`, `jsonTooDeep`
    ///   or `jsonTooLarge`, its reason giving the line and column.
    public static func parse<Bytes: Collection>(
        _ bytes: Bytes, limits: JSONLimits = .document
    ) throws(JWTError) -> JSONValue
    where Bytes.Element == UInt8 {
        try bytes.withContiguousBytes { (buffer) throws(JWTError) in
            try parse(buffer: UnsafeRawBufferPointer(buffer), limits: limits)
        }
    }

    /// Parses a JSON text given as a string.
    public static func parse(_ text: String, limits: JSONLimits = .document) throws(JWTError) -> JSONValue {
        try parse(text.utf8, limits: limits)
    }

    /// Parses the JSON text in `buffer`: the form the token parser uses, on bytes it just decoded.
    static func parse(buffer: UnsafeRawBufferPointer, limits: JSONLimits) throws(JWTError) -> JSONValue {
        guard buffer.count <= limits.maxBytes else {
            throw JWTError(
                .jsonTooLarge, "a JSON text of \(buffer.count) bytes is over the limit of \(limits.maxBytes)")
        }
        let root = try load(buffer)
        defer { linkgate_json_decref(root) }
        do {
            return try convert(root, depth: 1, maxDepth: limits.maxDepth)
        } catch {
            // The path is built only now, while failing, not for every member of every document.
            let path =
                error.reversedPath.isEmpty
                ? "the top level" : "/" + error.reversedPath.reversed().joined(separator: "/")
            throw JWTError(.jsonTooDeep, "nesting at \(path) is deeper than \(limits.maxDepth) levels")
        }
    }

    private static func load(_ buffer: UnsafeRawBufferPointer) throws(JWTError) -> UnsafeMutablePointer<json_t> {
        var error = json_error_t()
        let flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY
        let empty: CChar = 0
        let root = withUnsafePointer(to: empty) { empty in
            json_loadb(
                buffer.baseAddress?.assumingMemoryBound(to: CChar.self) ?? empty, buffer.count, Int(flags), &error)
        }
        if let root {
            return root
        }
        throw loadError(error)
    }

    private static func loadError(_ error: json_error_t) -> JWTError {
        var error = error
        let text = withUnsafeBytes(of: &error.text) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let place = "line \(error.line), column \(error.column)"
        switch UInt32(linkgate_json_error_code(&error)) {
        case json_error_duplicate_key.rawValue:
            return JWTError(.duplicateKey, "\(place): \(text)")
        case json_error_stack_overflow.rawValue:
            return JWTError(.jsonTooDeep, "\(place): nesting is too deep")
        default:
            return JWTError(.invalidJSON, "\(place): \(text)")
        }
    }
}

/// Nesting deeper than the limit, with the path from the offending container up
/// to the root (each level adds its own member name or index as the error passes).
private struct DepthExceeded: Error {
    var reversedPath: [String] = []
}

extension JSONValue {
    private static func convert(
        _ json: UnsafeMutablePointer<json_t>, depth: Int, maxDepth: Int
    ) throws(DepthExceeded) -> JSONValue {
        switch json_type(UInt32(linkgate_json_typeof(json))) {
        case JSON_OBJECT:
            return .object(try convertObject(json, depth: depth, maxDepth: maxDepth))
        case JSON_ARRAY:
            return .array(try convertArray(json, depth: depth, maxDepth: maxDepth))
        case JSON_STRING:
            let bytes = UnsafeRawBufferPointer(
                start: UnsafeRawPointer(json_string_value(json)), count: json_string_length(json))
            return .string(String(decoding: bytes, as: UTF8.self))
        case JSON_INTEGER:
            return .integer(Int64(json_integer_value(json)))
        case JSON_REAL:
            return .number(json_real_value(json))
        case JSON_TRUE:
            return .bool(true)
        case JSON_FALSE:
            return .bool(false)
        default:
            return .null
        }
    }

    /// Members in jansson's (insertion) order, appended without a uniqueness
    /// scan: `JSON_REJECT_DUPLICATES` has already refused repeated keys.
    private static func convertObject(
        _ json: UnsafeMutablePointer<json_t>, depth: Int, maxDepth: Int
    ) throws(DepthExceeded) -> JSONObject {
        guard depth <= maxDepth else { throw DepthExceeded() }
        var members: [JSONObject.Member] = []
        members.reserveCapacity(json_object_size(json))
        var iterator = json_object_iter(json)
        while let current = iterator {
            let keyBytes = UnsafeRawBufferPointer(
                start: json_object_iter_key(current), count: json_object_iter_key_len(current))
            let key = String(decoding: keyBytes, as: UTF8.self)
            do {
                members.append(
                    (key, try convert(json_object_iter_value(current)!, depth: depth + 1, maxDepth: maxDepth)))
            } catch {
                var error = error
                error.reversedPath.append(key)
                throw error
            }
            iterator = json_object_iter_next(json, current)
        }
        return JSONObject(uniqueMembers: members)
    }

    private static func convertArray(
        _ json: UnsafeMutablePointer<json_t>, depth: Int, maxDepth: Int
    ) throws(DepthExceeded) -> [JSONValue] {
        guard depth <= maxDepth else { throw DepthExceeded() }
        let count = json_array_size(json)
        var array = [JSONValue]()
        array.reserveCapacity(count)
        for index in 0..<count {
            do {
                array.append(try convert(json_array_get(json, index)!, depth: depth + 1, maxDepth: maxDepth))
            } catch {
                var error = error
                error.reversedPath.append(String(index))
                throw error
            }
        }
        return array
    }
}

extension JSONValue {
    /// How `serialized` lays out its text.
    public struct Layout: Sendable, Hashable {
        public var sortKeys: Bool
        public var indent: Int

        public init(sortKeys: Bool = false, indent: Int = 0) {
            self.sortKeys = sortKeys
            self.indent = indent
        }

        /// One line, members in their order: what goes into a JOSE segment.
        public static let compact = Layout()
        /// Indented, keys sorted: for people.
        public static let pretty = Layout(sortKeys: true, indent: 2)
    }

    /// The JSON text of this value, as UTF-8 bytes.
    public func serializedBytes(_ layout: Layout = .compact) -> [UInt8] {
        let json = makeJansson()
        defer { linkgate_json_decref(json) }
        var flags = Int(JSON_ENCODE_ANY)
        if layout.sortKeys { flags |= Int(JSON_SORT_KEYS) }
        if layout.indent > 0 { flags |= layout.indent & 0x1F } else { flags |= Int(JSON_COMPACT) }
        let size = json_dumpb(json, nil, 0, flags)
        var bytes = [UInt8](repeating: 0, count: size)
        _ = bytes.withUnsafeMutableBytes { buffer in
            json_dumpb(json, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), size, flags)
        }
        return bytes
    }

    /// The JSON text of this value.
    public func serialized(_ layout: Layout = .compact) -> String {
        String(decoding: serializedBytes(layout), as: UTF8.self)
    }

    private func makeJansson() -> UnsafeMutablePointer<json_t> {
        switch self {
        case .null: return json_null()
        case .bool(let value): return value ? json_true() : json_false()
        case .integer(let value): return json_integer(json_int_t(value))
        case .number(let value): return json_real(value)
        case .string(let value):
            return value.utf8CString.withUnsafeBufferPointer { json_stringn_nocheck($0.baseAddress, $0.count - 1) }
        case .array(let elements):
            let array = json_array()!
            for element in elements { json_array_append_new(array, element.makeJansson()) }
            return array
        case .object(let object):
            let json = json_object()!
            for (key, value) in object {
                key.utf8CString.withUnsafeBufferPointer { key in
                    _ = json_object_setn_new_nocheck(json, key.baseAddress, key.count - 1, value.makeJansson())
                }
            }
            return json
        }
    }
}
