import Metrics
import Policy

/// Where a route's requests go: the upstream's origin and path prefix, and its
/// timeouts (`routes.json` → `upstreams`). Made once per policy and never
/// changed: a class, so that each request holding it retains one object, not
/// each of its strings.
final class UpstreamTarget: Sendable, Equatable {
    static func == (lhs: UpstreamTarget, rhs: UpstreamTarget) -> Bool {
        lhs.name == rhs.name && lhs.origin == rhs.origin && lhs.pathPrefix == rhs.pathPrefix
            && lhs.connectTimeoutMs == rhs.connectTimeoutMs && lhs.requestTimeoutMs == rhs.requestTimeoutMs
            && lhs.poolKey == rhs.poolKey
    }

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
    /// The host to connect to (without brackets for IPv6) and its port.
    let host: String
    let port: Int
    /// `https`: the connection is TLS, the server's certificate verified (docs/tls.md §2).
    let tls: UpstreamTLS?
    /// What the upstream pools file connections under: the origin, and for
    /// `https` the TLS settings and files.
    let poolKey: String
    /// The `Host` header sent upstream: the URL's authority as written.
    let authority: String
    /// The latency timer of the requests it answered, made on first use
    /// (`GatewayMetrics.upstreamResponse`): no lock and no hashed labels a request.
    let responseTimer = MetricSlot<Metrics.Timer>()

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
        let authority = String(rest[..<pathStart])
        guard let (host, port) = Self.hostAndPort(authority, defaultPort: scheme == "https" ? 443 : 80) else {
            throw Problem(description: "the upstream \(spec.name) has no usable host and port in \(url)")
        }
        self.host = host
        self.port = port
        if scheme == "https" {
            do {
                let tls = try UpstreamTLS(files: spec.tls, host: host)
                self.tls = tls
                self.poolKey = "\(scheme)://\(authority) \(tls.poolKey)"
            } catch {
                throw Problem(description: "routes.json: /upstreams/\(spec.name)/tls: \(error.message)")
            }
        } else {
            self.tls = nil
            self.poolKey = "\(scheme)://\(authority)"
        }
        self.authority = authority
        self.name = spec.name
        self.origin = "\(scheme)://\(rest[..<pathStart])"
        self.pathPrefix = prefix
        self.connectTimeoutMs = spec.connectTimeoutMs
        self.requestTimeoutMs = spec.requestTimeoutMs
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; nil when the port is not a number.
    static func hostAndPort(_ authority: String, defaultPort: Int) -> (String, Int)? {
        var host = Substring(authority)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        guard let portText else { return (String(host), defaultPort) }
        guard let port = Int(portText), (1...65_535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// The request target sent upstream: the prefix, then the path and query as decided.
    func requestTarget(rawPath: Substring, rawQuery: Substring?) -> String {
        var target = ""
        target.reserveCapacity(pathPrefix.utf8.count + rawPath.utf8.count + 1 + (rawQuery?.utf8.count ?? 0))
        requestTarget(rawPath: rawPath, rawQuery: rawQuery) { target += $0 }
        return target
    }

    /// The request target's pieces in order, each as decided: the one definition
    /// of its bytes, which the byte path writes straight into the head it sends.
    func requestTarget(rawPath: Substring, rawQuery: Substring?, _ piece: (Substring) -> Void) {
        piece(pathPrefix[...])
        piece(rawPath)
        if let rawQuery, !rawQuery.isEmpty {
            piece("?")
            piece(rawQuery)
        }
    }

    /// The URL a request for `rawPath?rawQuery` is sent to: path and query keep their bytes.
    func url(rawPath: Substring, rawQuery: Substring?) -> String {
        origin + requestTarget(rawPath: rawPath, rawQuery: rawQuery)
    }
}
