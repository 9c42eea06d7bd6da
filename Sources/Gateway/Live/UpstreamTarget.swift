import Policy

/// Where a route's requests go: the upstream's origin and path prefix, and its
/// timeouts (`routes.json` → `upstreams`).
struct UpstreamTarget: Sendable, Equatable {
    struct Problem: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    let name: String
    /// `scheme://host:port`, no trailing slash.
    let origin: String
    /// The URL's path without its trailing `/`, put before every forwarded path.
    let pathPrefix: String
    let connectTimeoutMs: Int
    let requestTimeoutMs: Int

    init(_ spec: UpstreamSpec) throws(Problem) {
        let url = spec.url
        guard let schemeEnd = url.range(of: "://") else {
            throw Problem(description: "the upstream \(spec.name) has no scheme in \(url)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw Problem(description: "the upstream \(spec.name) must use http or https, not \(scheme)")
        }
        let rest = url[schemeEnd.upperBound...]
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        var prefix = String(rest[pathStart...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.name = spec.name
        self.origin = "\(scheme)://\(rest[..<pathStart])"
        self.pathPrefix = prefix
        self.connectTimeoutMs = spec.connectTimeoutMs
        self.requestTimeoutMs = spec.requestTimeoutMs
    }

    /// The URL a request for `rawPath?rawQuery` is sent to: path and query keep their bytes.
    func url(rawPath: Substring, rawQuery: Substring?) -> String {
        var url = origin + pathPrefix
        url += rawPath
        if let rawQuery, !rawQuery.isEmpty {
            url += "?"
            url += rawQuery
        }
        return url
    }
}
