/// The canonical form of an HTTP request that a Connect JWT's `qsh` hashes
/// (PROTOCOLS §2; Atlassian's Java `HttpRequestCanonicalizer` wins every
/// disagreement with other implementations).
public struct CanonicalRequest: Sendable, Hashable, CustomStringConvertible {
    /// The method, upper case.
    public let method: String
    /// The path less the site's base path, one trailing `/` removed, `&` as `%26`.
    public let path: String
    /// The sorted, re-encoded query without `jwt`.
    public let query: String

    /// Canonicalises a request as received.
    /// - Parameters:
    ///   - rawPath: the path exactly as sent, not percent-decoded, without the query.
    ///   - rawQuery: the query exactly as sent, without the leading `?`.
    ///   - basePath: the path of the site's `baseUrl` (see `basePath(ofBaseURL:)`).
    /// - Throws: `invalidQueryEncoding` for a malformed `%XX` or non-UTF-8 parameter.
    @inlinable
    public init(method: String, rawPath: some StringProtocol, rawQuery: some StringProtocol, basePath: String = "") throws {
        // Inlined so a caller's concrete string types meet the non-generic code below.
        try self.init(method: method, rawPathSubstring: Substring(rawPath), rawQuerySubstring: Substring(rawQuery), basePath: basePath)
    }

    @usableFromInline
    init(method: String, rawPathSubstring rawPath: Substring, rawQuerySubstring rawQuery: Substring, basePath: String) throws {
        let parts = try CanonicalForm.withBytes(method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath) { bytes, layout in
            (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<layout.methodEnd]), as: UTF8.self),
             String(decoding: UnsafeBufferPointer(rebasing: bytes[(layout.methodEnd + 1)..<layout.pathEnd]), as: UTF8.self),
             String(decoding: UnsafeBufferPointer(rebasing: bytes[(layout.pathEnd + 1)...]), as: UTF8.self))
        }
        (self.method, self.path, self.query) = parts
    }

    /// `METHOD&PATH&QUERY`.
    public var description: String { "\(method)&\(path)&\(query)" }

    /// The `qsh` claim for this request: lower-case hex SHA-256 of `description`.
    public var queryStringHash: String {
        var text = description
        return text.withUTF8 { Hex.lowercase(Digest.sha256.hash(UnsafeRawBufferPointer($0))) }
    }

    /// The path of a base URL with no trailing slash: `https://h/jira/` → `/jira`, `https://h` → ``.
    public static func basePath(ofBaseURL baseURL: String) -> String {
        var rest = Substring(baseURL)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        var path = rest[slash...]
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        while path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    // The `Character`-based reference forms: `CanonicalForm` uses them for text
    // that is not ASCII, and its byte path must agree with them on ASCII.

    static func canonicalPath(_ rawPath: Substring, basePath: String) -> String {
        var path = rawPath
        // Only a whole leading segment run is the base path: `/jira` is not removed from `/jiraX`.
        if !basePath.isEmpty, path.hasPrefix(basePath) {
            let rest = path.dropFirst(basePath.count)
            if rest.isEmpty || rest.hasPrefix("/") { path = rest }
        }
        var result = path.hasPrefix("/") ? String(path) : "/" + path
        // Java removes exactly one trailing slash (Python removes them all): follow Java.
        if result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result.replacingAmpersands()
    }

    static func canonicalQuery(_ rawQuery: Substring) throws -> String {
        var valuesByName: [[UInt8]: [[UInt8]]] = [:]
        for parameter in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let (name, value) = try Self.decodeParameter(parameter)
            if name == Self.jwtName { continue }
            valuesByName[name, default: []].append(value)
        }
        var items: [(name: [UInt8], item: [UInt8])] = []
        items.reserveCapacity(valuesByName.count)
        for (name, values) in valuesByName {
            var encodedName = [UInt8]()
            PercentEncoding.encode(name, into: &encodedName)
            var item = encodedName
            item.append(UInt8(ascii: "="))
            // Values sort by their decoded form; UTF-8 byte order is code point order.
            for (index, value) in values.sorted(by: { $0.lexicographicallyPrecedes($1) }).enumerated() {
                if index > 0 { item.append(UInt8(ascii: ",")) }
                PercentEncoding.encode(value, into: &item)
            }
            items.append((encodedName, item))
        }
        // Items sort by the encoded name alone, byte order (`a` < `a1` < `a10` < `b1`).
        items.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return String(decoding: Array(items.map(\.item).joined(separator: [UInt8(ascii: "&")])), as: UTF8.self)
    }

    private static let jwtName = Array("jwt".utf8)

    private static func decodeParameter(_ parameter: Substring) throws -> (name: [UInt8], value: [UInt8]) {
        guard let equals = parameter.firstIndex(of: "=") else {
            return (try PercentEncoding.formDecode(parameter.utf8), [])
        }
        let name = try PercentEncoding.formDecode(parameter[..<equals].utf8)
        let value = try PercentEncoding.formDecode(parameter[parameter.index(after: equals)...].utf8)
        return (name, value)
    }
}

extension String {
    fileprivate func replacingAmpersands() -> String {
        guard contains("&") else { return self }
        return split(separator: "&", omittingEmptySubsequences: false).joined(separator: "%26")
    }
}

/// Hexadecimal text of bytes.
public enum Hex {
    /// Lower-case hex, as the `qsh` claim is written.
    public static func lowercase(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { output in
                lowercase(bytes, into: output)
            }
        }
    }

    /// Writes the hex of `bytes` into `output` (twice as long) and returns the count written.
    @discardableResult
    static func lowercase(_ bytes: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(output.count >= bytes.count * 2, "hex output buffer too small")
        for (index, byte) in bytes.enumerated() {
            output[2 * index] = digit(byte >> 4)
            output[2 * index + 1] = digit(byte & 0x0F)
        }
        return bytes.count * 2
    }

    /// A digit by arithmetic rather than from a lazily initialised table.
    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &- 10 &+ UInt8(ascii: "a")
    }
}
