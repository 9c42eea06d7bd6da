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

    /// The `Allow` value of the endpoint whose path (or `{name}` template) `path` is.
    func allow(for path: Substring) -> String? {
        allowByPath.withLock { table in
            if let allow = table[String(path)] { return allow }
            return table.first { $0.key.contains("{") && EndpointPaths.matches(path, template: $0.key) }?.value
        }
    }
}
