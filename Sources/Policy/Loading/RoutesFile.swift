import Scopes

/// Reads `routes.json`: upstreams and routes.
enum RoutesFile {
    static let name = "routes.json"
    static let routeKeys = [
        "methods", "path", "upstream", "scopes", "permission", "resource", "public", "contextJwt", "encodedSlash",
        "appKeyParameter",
    ]

    static func read(_ folder: PolicyFolder) -> (upstreams: [UpstreamSpec], routes: [RouteSpec]) {
        guard let root = folder.readJSON(name, required: true), let object = root.object(keys: ["upstreams", "routes"])
        else {
            return ([], [])
        }
        let upstreams =
            object.required("upstreams")?.members?.compactMap { readUpstream(name: $0, reader: $1, folder: folder) }
            ?? []
        let routes = object.required("routes")?.elements?.compactMap(readRoute) ?? []
        return (upstreams, routes)
    }

    private static func readUpstream(name: String, reader: JSONReader, folder: PolicyFolder) -> UpstreamSpec? {
        guard let object = reader.object(keys: ["url", "connectTimeoutMs", "requestTimeoutMs", "tls"]),
            let urlReader = object.required("url"), let url = urlReader.nonEmptyString
        else { return nil }
        // Kept even when its URL is wrong, so routes naming it do not add a second, misleading problem.
        if let problem = ValueRules.httpURL(url) { urlReader.report(problem) }
        var upstream = UpstreamSpec(name: name, url: url, source: reader.location)
        upstream.connectTimeoutMs = object.integer(
            "connectTimeoutMs", in: 1...600_000, default: upstream.connectTimeoutMs)
        upstream.requestTimeoutMs = object.integer(
            "requestTimeoutMs", in: 1...86_400_000, default: upstream.requestTimeoutMs)
        if let tlsReader = object.optional("tls", nullMeansAbsent: true) {
            upstream.tls = TLSFilesReader.upstream(tlsReader, folder: folder)
            if !url.lowercased().hasPrefix("https://") { tlsReader.report("needs an https:// url") }
        }
        return upstream
    }

    private static func readRoute(_ reader: JSONReader) -> RouteSpec? {
        guard let object = reader.object(keys: routeKeys) else { return nil }
        let methods = readMethods(object.required("methods"))
        let parsed = object.required("path").flatMap(readPath)
        let upstream = object.required("upstream")?.nonEmptyString
        guard let methods, let template = parsed, let upstream else { return nil }
        var route = RouteSpec(
            methods: methods, path: template.text, template: template, upstream: upstream, source: reader.location)
        route.scopes = object.strings("scopes").map(ScopeNames.canonical)
        route.permission = object.optional("permission")?.nonEmptyString
        route.isPublic = object.bool("public", default: false)
        route.contextJwt = object.bool("contextJwt", default: false)
        route.encodedSlash = object.bool("encodedSlash", default: false)
        // A public route has none (reported below): it has no caller to compare with.
        if !route.isPublic {
            route.appKeyParameter = object.optional("appKeyParameter").flatMap { readAppKeyParameter($0, route: route) }
        }
        route.resource = readResource(object, route: route)
        checkConsistency(route, object: object)
        return route
    }

    private static func readMethods(_ reader: JSONReader?) -> [String]? {
        guard let reader, let elements = reader.elements else { return nil }
        if elements.isEmpty {
            reader.report("must list at least one method")
            return nil
        }
        let methods = elements.compactMap { element -> String? in
            guard let method = element.nonEmptyString else { return nil }
            if let problem = ValueRules.method(method) {
                element.report(problem)
                return nil
            }
            return method
        }
        return methods.count == elements.count ? methods : nil
    }

    private static func readPath(_ reader: JSONReader) -> Scopes.PathTemplate? {
        guard let path = reader.nonEmptyString else { return nil }
        if let problem = RouteTemplateRules.pathProblem(path) {
            reader.report(problem)
            return nil
        }
        do {
            return try Scopes.PathTemplate(path)
        } catch {
            reader.report(error.reason)
            return nil
        }
    }

    /// The resource template, checked against the path's parameters; `global`
    /// when a permission is named without one.
    private static func readResource(_ object: ObjectReader, route: RouteSpec) -> String? {
        guard let reader = object.optional("resource"), let resource = reader.nonEmptyString else {
            return route.permission == nil ? nil : "global"
        }
        if let problem = RouteTemplateRules.resourceProblem(resource, path: route.template) {
            reader.report(problem)
        }
        return resource
    }

    /// The app key parameter: one of the path's one-segment parameters.
    private static func readAppKeyParameter(_ reader: JSONReader, route: RouteSpec) -> String? {
        guard let name = reader.nonEmptyString else { return nil }
        guard route.template.segments.contains(.parameter(name)) else {
            reader.report("must name a one-segment parameter of the path, like {\(name)} in '\(route.path)'")
            return nil
        }
        return name
    }

    /// Refuses combinations that would mean less than they seem to: a public
    /// route ignores scopes and permission, so writing them there is a mistake.
    private static func checkConsistency(_ route: RouteSpec, object: ObjectReader) {
        let log = object.log
        let location = route.source
        if route.isPublic {
            for key in ["scopes", "permission", "resource", "appKeyParameter"] where object.object[key] != nil {
                log.report(location.appending(key), "a public route has no \(key): it skips every test")
            }
            return
        }
        if route.scopes.isEmpty, object.object["scopes"] == nil {
            log.report(location.appending("scopes"), "is required unless the route is public")
        } else if route.scopes.isEmpty {
            log.report(location.appending("scopes"), "must list at least one scope")
        }
        if object.object["resource"] != nil, object.object["permission"] == nil {
            log.report(location.appending("resource"), "has no effect without a permission")
        }
    }
}
