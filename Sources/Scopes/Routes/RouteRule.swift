/// One entry of `routes.json` `routes`: which requests it covers and what they
/// must pass.
public struct RouteRule: Hashable, Sendable, CustomStringConvertible {
    /// The permission a route requires and the resource it is tested on.
    public struct RequiredPermission: Hashable, Sendable {
        public let name: String
        public let resource: ResourceTemplate
    }

    /// The rule's fields, held once behind a reference: a decision copies the
    /// rule into its match and trace, and one retain is cheaper than ten.
    private final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private struct Fields: Hashable, Sendable {
        var index: Int
        var methods: [String]
        var path: PathTemplate
        var upstream: String
        var scopes: [Scope]
        var permission: RequiredPermission?
        var isPublic: Bool
        var contextJWT: Bool
        var allowsEncodedSlash: Bool
        var appKeyParameter: String?
    }

    private let storage: Storage

    /// The rule's position in `routes.json` `routes`, for reports and traces.
    public var index: Int { storage.fields.index }
    /// Upper-case HTTP methods, sorted, without duplicates. `HEAD` is not implied
    /// by `GET`: list both.
    public var methods: [String] { storage.fields.methods }
    public var path: PathTemplate { storage.fields.path }
    /// `path` as written in `routes.json`, read in place (`path` copies the whole template).
    public var pathText: String { storage.fields.path.text }
    /// The name of the upstream requests are forwarded to.
    public var upstream: String { storage.fields.upstream }
    /// Alternatives: holding any one of them (after implication) passes the scope
    /// test. Empty means no scoped credential passes (fail closed); credentials
    /// whose scope test is skipped (Basic, OAuth 1.0a) still may.
    public var scopes: [Scope] { storage.fields.scopes }
    /// `nil`: a scope test only.
    public var permission: RequiredPermission? { storage.fields.permission }
    /// Forwarded without any test, anonymous requests included.
    public var isPublic: Bool { storage.fields.isPublic }
    /// Connect JWTs with `qsh` `context-qsh` are let through on this route (the
    /// credential check reads this).
    public var contextJWT: Bool { storage.fields.contextJWT }
    /// A `%2F` (an encoded `/`) inside a path segment is accepted on this route;
    /// elsewhere the route check refuses it, because a backend that decodes it
    /// before routing would run another operation than the one decided on.
    public var allowsEncodedSlash: Bool { storage.fields.allowsEncodedSlash }
    /// The path parameter that must name the calling app (`addonKey` in
    /// `/addons/{addonKey}/properties/{key}`): a request for another app's
    /// resource, or from a credential without an app, is refused (the credential
    /// check reads this). `nil`: the path may name any app.
    public var appKeyParameter: String? { storage.fields.appKeyParameter }

    public static func == (lhs: RouteRule, rhs: RouteRule) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(storage.fields) }

    /// Builds a rule from the text of `routes.json`.
    ///
    /// - Throws: `ScopesError` with `ruleIndex` set: `.invalidPathTemplate`,
    ///   `.invalidResourceTemplate`, `.unknownPathParameter` (the resource names a
    ///   path parameter the path lacks, or `appKeyParameter` is not one of its
    ///   one-segment parameters), or `.invalidRule` (no methods, a method that is
    ///   not a token, `permission` without `resource` or the reverse, a public
    ///   route with a permission or an app key parameter).
    public init(
        index: Int, methods: [String], path: String, upstream: String,
        scopes: [Scope] = [], permission: String? = nil, resource: String? = nil,
        isPublic: Bool = false, contextJWT: Bool = false, allowsEncodedSlash: Bool = false,
        appKeyParameter: String? = nil
    ) throws(ScopesError) {
        let template = try RouteRule.at(index) { () throws(ScopesError) in try PathTemplate(path) }
        let required = try RouteRule.requiredPermission(permission, resource, path: template, index: index)
        if isPublic, required != nil {
            throw ScopesError(.invalidRule, "a public route cannot require a permission", ruleIndex: index)
        }
        try RouteRule.checkAppKeyParameter(appKeyParameter, path: template, isPublic: isPublic, index: index)
        storage = Storage(
            Fields(
                index: index, methods: try RouteRule.canonicalMethods(methods, index: index), path: template,
                upstream: upstream, scopes: scopes, permission: required, isPublic: isPublic, contextJWT: contextJWT,
                allowsEncodedSlash: allowsEncodedSlash, appKeyParameter: appKeyParameter))
    }

    /// Whether the rule covers `method` (compared exactly: HTTP methods are case-sensitive).
    public func allows(method: some StringProtocol) -> Bool {
        methods.contains { $0 == method }
    }

    /// `#3 GET,HEAD /rest/api/3/project/{projectKey} → jira`
    public var description: String {
        "#\(index) \(methods.joined(separator: ",")) \(path) → \(upstream)"
    }

    private static func canonicalMethods(_ methods: [String], index: Int) throws(ScopesError) -> [String] {
        guard !methods.isEmpty else {
            throw ScopesError(.invalidRule, "a route needs at least one method", ruleIndex: index)
        }
        let canonical = Set(methods.map { $0.uppercased() })
        for method in canonical where method.isEmpty || !method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw ScopesError(.invalidRule, "'\(method)' is not an HTTP method", ruleIndex: index)
        }
        return canonical.sorted()
    }

    private static func requiredPermission(
        _ permission: String?, _ resource: String?, path: PathTemplate, index: Int
    ) throws(ScopesError) -> RequiredPermission? {
        switch (permission, resource) {
        case (nil, nil):
            return nil
        case (let name?, let resource?) where !name.isEmpty:
            let template = try at(index) { () throws(ScopesError) in try ResourceTemplate(resource) }
            for name in template.pathParameterNames where !path.parameterNames.contains(name) {
                throw ScopesError(
                    .unknownPathParameter, "resource '\(resource)' uses '{\(name)}', which path '\(path)' lacks",
                    ruleIndex: index)
            }
            return RequiredPermission(name: name, resource: template)
        default:
            throw ScopesError(.invalidRule, "'permission' and 'resource' go together", ruleIndex: index)
        }
    }

    /// An app key parameter must be one of the path's one-segment parameters, on
    /// a route that is not public (a public route has no caller to compare with).
    private static func checkAppKeyParameter(
        _ name: String?, path: PathTemplate, isPublic: Bool, index: Int
    ) throws(ScopesError) {
        guard let name else { return }
        if isPublic {
            throw ScopesError(.invalidRule, "a public route cannot have an app key parameter", ruleIndex: index)
        }
        let isSegmentParameter = path.segments.contains { segment in
            if case .parameter(name) = segment { true } else { false }
        }
        guard isSegmentParameter else {
            throw ScopesError(
                .unknownPathParameter,
                "appKeyParameter '\(name)' is not a one-segment parameter '{\(name)}' of path '\(path)'",
                ruleIndex: index)
        }
    }

    /// Runs `body`, stamping any error with the rule's index.
    private static func at<T>(_ index: Int, _ body: () throws(ScopesError) -> T) throws(ScopesError) -> T {
        do { return try body() } catch { throw ScopesError(error.code, error.reason, ruleIndex: index) }
    }
}
