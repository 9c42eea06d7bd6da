/// The canonical form of an HTTP request that a Connect JWT's `qsh` hashes
/// (docs/protocols.md §2; Atlassian's Java `HttpRequestCanonicalizer` wins every
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
    public init(
        method: String, rawPath: some StringProtocol, rawQuery: some StringProtocol, basePath: String = ""
    ) throws(JWTError) {
        // Inlined so a caller's concrete string types meet the non-generic code below.
        try self.init(
            method: method, rawPathSubstring: Substring(rawPath), rawQuerySubstring: Substring(rawQuery),
            basePath: basePath)
    }

    @usableFromInline
    init(
        method: String, rawPathSubstring rawPath: Substring, rawQuerySubstring rawQuery: Substring, basePath: String
    ) throws(JWTError) {
        let parts = try CanonicalForm.withBytes(
            method: method, rawPath: rawPath, rawQuery: rawQuery, basePath: basePath
        ) { bytes, layout in
            (
                String(decoding: UnsafeBufferPointer(rebasing: bytes[..<layout.methodEnd]), as: UTF8.self),
                String(
                    decoding: UnsafeBufferPointer(rebasing: bytes[(layout.methodEnd + 1)..<layout.pathEnd]),
                    as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: bytes[(layout.pathEnd + 1)...]), as: UTF8.self)
            )
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
}
