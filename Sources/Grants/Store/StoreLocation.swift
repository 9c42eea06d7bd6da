/// Where the store lives (docs/policies.md §3, `store`): `sqlite:PATH` (embedded, the
/// default) or `postgres://user:pass@host:port/db` (shared by several gateways).
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// - Throws: `StoreError.badLocation` for anything else, with the accepted forms.
    public init(parsing text: String) throws(StoreError) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw StoreError(.badLocation, "the store \"sqlite:\" needs a path: sqlite:var/linkgate.sqlite")
            }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(url: text)
        } else {
            throw StoreError(
                .badLocation,
                "the store \"\(text.prefix(80))\" must be sqlite:PATH or postgres://user:pass@host:port/db")
        }
    }

    /// The location with a relative SQLite path resolved against `folder` (the policy folder).
    public func resolved(against folder: String) -> StoreLocation {
        guard case .sqlite(let path) = self, !path.hasPrefix("/"), path != ":memory:" else { return self }
        return .sqlite(path: folder.hasSuffix("/") ? folder + path : folder + "/" + path)
    }

    /// The SQLite file, or nil for PostgreSQL.
    public var sqlitePath: String? {
        if case .sqlite(let path) = self { path } else { nil }
    }

    /// For logs: never the password of a PostgreSQL URL.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else {
                return url
            }
            let credentials = url[schemeEnd.upperBound..<at]
            let user = credentials.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            return url[..<schemeEnd.upperBound] + user + (credentials.contains(":") ? ":***" : "") + url[at...]
        }
    }
}
