import HTTPTypes

/// The request an authz-listener request asks about (docs/forward-auth.md): its
/// method and its target (path and query, as the client sent them), read from
/// `X-Forwarded-Method` + `X-Forwarded-Uri` (Traefik, Oathkeeper), else
/// `X-Original-Method` + `X-Original-URI` (nginx `auth_request`), else the
/// request's own method and target less `authzPathPrefix` (Envoy `ext_authz`).
struct OriginalRequest: Equatable {
    let method: String
    let target: String

    /// A pair of headers that carries the original method and target.
    private struct Convention {
        let method: HTTPField.Name
        let target: HTTPField.Name
    }

    private static let conventions = [
        Convention(method: HTTPField.Name("X-Forwarded-Method")!, target: HTTPField.Name("X-Forwarded-Uri")!),
        Convention(method: HTTPField.Name("X-Original-Method")!, target: HTTPField.Name("X-Original-URI")!),
    ]

    /// - Throws: 400 `invalid_request` when a convention is half there or given
    ///   twice, or the own target lacks the configured prefix: the gateway refuses
    ///   what it would have to guess.
    init(method: String, target: String, headers: HTTPFields, pathPrefix: String?) throws(GatewayError) {
        for convention in Self.conventions {
            let methods = headers[values: convention.method]
            let targets = headers[values: convention.target]
            if methods.isEmpty, targets.isEmpty { continue }
            guard methods.count == 1, targets.count == 1, let method = methods.first, let target = targets.first,
                !method.isEmpty, !target.isEmpty
            else {
                throw GatewayError(
                    .missingOriginalRequest,
                    "\(convention.method) and \(convention.target) must both be sent, once each, not empty")
            }
            self.method = method
            self.target = target
            return
        }
        self.method = method
        self.target = try Self.removing(pathPrefix, from: target)
    }

    /// `target` without `prefix`, which must end on a segment boundary
    /// (`/authz/x` and `/authz?q` lose `/authz`; `/authzx` is refused).
    static func removing(_ prefix: String?, from target: String) throws(GatewayError) -> String {
        guard let prefix else { return target }
        guard target.hasPrefix(prefix) else {
            throw GatewayError(
                .missingOriginalRequest,
                "no X-Forwarded-Uri or X-Original-URI, and the path does not start with the authz path prefix \(prefix)"
            )
        }
        let rest = target.dropFirst(prefix.count)
        if rest.isEmpty { return "/" }
        if rest.hasPrefix("/") { return String(rest) }
        if rest.hasPrefix("?") { return "/" + rest }
        throw GatewayError(
            .missingOriginalRequest, "the path does not start with the authz path prefix \(prefix) as a whole segment")
    }
}
