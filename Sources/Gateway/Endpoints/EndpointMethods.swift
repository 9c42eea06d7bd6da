import Synchronization

/// The methods each of the gateway's own endpoints answers, as its `Allow` value,
/// recorded as the endpoints are registered (`RouteCollection.answer`). A request
/// on an endpoint's path with a method no route was registered for (`TRACE`, an
/// extension method) is a 405 with this `Allow`, never a proxied request
/// (docs/gateway.md §6).
final class EndpointMethods: Sendable {
    private let allowByPath = Mutex<[String: String]>([:])

    func record(_ path: String, allow: String) {
        allowByPath.withLock { $0[path] = allow }
    }

    /// What was recorded, as the lookup the dispatch asks on every request it
    /// proxies: read once, after the endpoints are registered, with no lock.
    var table: EndpointAllowTable { EndpointAllowTable(allowByPath.withLock { $0 }) }
}

/// Each endpoint path's `Allow`: exact paths by hash, `{name}` templates only
/// when the path begins like one (as `EndpointPaths` matches them).
struct EndpointAllowTable: Sendable {
    private let exact: [String: String]
    private let templates: [(prefix: Substring, template: String, allow: String)]

    init(_ allowByPath: [String: String]) {
        exact = allowByPath.filter { !$0.key.contains("{") }
        templates = allowByPath.compactMap { path, allow in
            path.firstIndex(of: "{").map { (path[..<$0], path, allow) }
        }
    }

    /// The `Allow` value of the endpoint whose path (or template) `path` is.
    func allow(for path: Substring) -> String? {
        if let allow = exact[String(path)] { return allow }
        return templates.first { path.hasPrefix($0.prefix) && EndpointPaths.matches(path, template: $0.template) }?
            .allow
    }
}
