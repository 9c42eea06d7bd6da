/// Reads `gateway.json` into `GatewaySettings`.
enum GatewayFile {
    static let name = "gateway.json"

    static let keys = [
        "baseUrl", "listen", "adminListen", "store", "clockSkewSeconds", "accessTokens", "lifetimes",
        "assertionAudiences", "site", "basicAuth", "login", "auditAllowedRequests", "forwardClientHeaders",
        "connections", "authzListen", "authzPathPrefix", "tls", "adminTls", "authzTls",
    ]

    /// The algorithms an access token may be signed with: asymmetric ones only,
    /// because resource servers verify them with the public JWKS.
    static let accessTokenAlgorithms = [
        "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
    ]

    /// The settings, or `nil` when the file is missing or has no usable `baseUrl`.
    static func read(_ folder: PolicyFolder) -> GatewaySettings? {
        guard let root = folder.readJSON(name, required: true), let object = root.object(keys: keys) else { return nil }
        guard let baseUrl = readBaseURL(object) else { return nil }
        var settings = GatewaySettings(baseUrl: baseUrl, source: root.location)
        settings.listen = address(object, "listen", default: settings.listen)
        settings.adminListen = address(object, "adminListen", default: settings.adminListen)
        if settings.listen == settings.adminListen, object.object["adminListen"] != nil {
            folder.log.report(root.location.appending("adminListen"), "must differ from listen")
        }
        readAuthz(object, into: &settings, folder: folder, location: root.location)
        settings.store = readStore(object, default: settings.store)
        settings.clockSkewSeconds = object.integer("clockSkewSeconds", in: 0...600, default: settings.clockSkewSeconds)
        settings.accessTokens = readAccessTokens(object.optional("accessTokens"), folder: folder)
        settings.lifetimes = readLifetimes(object.optional("lifetimes"))
        settings.assertionAudiences = readAudiences(object.optional("assertionAudiences"))
        settings.site = readSite(object.optional("site"))
        settings.basicAuth = object.bool("basicAuth", default: true)
        settings.login = readLogin(object.optional("login"))
        settings.auditAllowedRequests = object.bool("auditAllowedRequests", default: false)
        settings.forwardClientHeaders = readForwardClientHeaders(object.optional("forwardClientHeaders"))
        settings.connections = readConnections(object.optional("connections"))
        settings.tls = TLSFilesReader.listener(object.optional("tls", nullMeansAbsent: true), folder: folder)
        settings.adminTls = TLSFilesReader.listener(object.optional("adminTls", nullMeansAbsent: true), folder: folder)
        settings.authzTls = TLSFilesReader.listener(object.optional("authzTls", nullMeansAbsent: true), folder: folder)
        return settings
    }

    /// `connections`: the limits on client connections, each within a sane range.
    private static func readConnections(_ reader: JSONReader?) -> ConnectionSettings {
        var settings = ConnectionSettings()
        let fields: [(String, WritableKeyPath<ConnectionSettings, Int>, ClosedRange<Int>)] = [
            ("max", \.max, 1...1_000_000),
            ("headerTimeoutMs", \.headerTimeoutMs, 100...3_600_000),
            ("bodyTimeoutMs", \.bodyTimeoutMs, 100...3_600_000),
            ("keepAliveTimeoutMs", \.keepAliveTimeoutMs, 100...3_600_000),
        ]
        guard let object = reader?.object(keys: fields.map(\.0)) else { return settings }
        for (key, path, range) in fields {
            settings[keyPath: path] = object.integer(key, in: range, default: settings[keyPath: path])
        }
        return settings
    }

    /// Names from `GatewaySettings.clientRewritingHeaders` only: credentials, framing
    /// and the gateway's own headers are never the client's to send upstream.
    private static func readForwardClientHeaders(_ reader: JSONReader?) -> [String] {
        guard let elements = reader?.elements else { return [] }
        return elements.compactMap { element in
            guard let text = element.nonEmptyString else { return nil }
            let name = text.lowercased()
            guard GatewaySettings.clientRewritingHeaders.contains(name) else {
                element.report(
                    "\(text.prefix(64)) is not a header the gateway removes by default; one of "
                        + GatewaySettings.clientRewritingHeaders.sorted().joined(separator: ", "))
                return nil
            }
            return name
        }
    }

    /// `baseUrl` without a trailing `/`, so `<baseUrl>/oauth2/token` has one slash.
    private static func readBaseURL(_ object: ObjectReader) -> String? {
        guard let reader = object.required("baseUrl"), let text = reader.nonEmptyString else { return nil }
        if let problem = ValueRules.httpURL(text) {
            reader.report(problem)
            return nil
        }
        if text.contains("?") {
            reader.report("must not have a query")
            return nil
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `authzListen` (a third address) and `authzPathPrefix` (`/` and at least one
    /// more character, no trailing `/`, no query).
    private static func readAuthz(
        _ object: ObjectReader, into settings: inout GatewaySettings, folder: PolicyFolder, location: PolicyLocation
    ) {
        if object.optional("authzListen")?.nonEmptyString != nil {
            let address = address(object, "authzListen", default: "")
            if !address.isEmpty, address == settings.listen || address == settings.adminListen {
                folder.log.report(location.appending("authzListen"), "must differ from listen and adminListen")
            } else if !address.isEmpty {
                settings.authzListen = address
            }
        }
        guard let reader = object.optional("authzPathPrefix"), let prefix = reader.nonEmptyString else { return }
        let isPlainPath =
            prefix.hasPrefix("/") && prefix.count > 1 && !prefix.hasSuffix("/")
            && !prefix.contains(where: { $0 == "?" || $0 == "#" || $0 == "%" || $0.isWhitespace })
        if isPlainPath {
            settings.authzPathPrefix = prefix
        } else {
            reader.report("must be a path like /authz: a leading /, no trailing /, no ?, #, % or spaces")
        }
    }

    private static func address(_ object: ObjectReader, _ key: String, default fallback: String) -> String {
        guard let reader = object.optional(key), let text = reader.nonEmptyString else { return fallback }
        if let problem = ValueRules.listenAddress(text) {
            reader.report(problem)
            return fallback
        }
        return text
    }

    private static func readStore(_ object: ObjectReader, default fallback: String) -> String {
        guard let reader = object.optional("store"), let text = reader.nonEmptyString else { return fallback }
        if let problem = ValueRules.storeURL(text) {
            reader.report(problem)
            return fallback
        }
        return text
    }

    private static func readAccessTokens(_ reader: JSONReader?, folder: PolicyFolder) -> AccessTokenSettings {
        var settings = AccessTokenSettings()
        guard let object = reader?.object(keys: ["algorithm", "keyFile"]) else { return settings }
        if let algorithm = object.optional("algorithm"), let name = algorithm.nonEmptyString {
            if accessTokenAlgorithms.contains(name) {
                settings.algorithm = name
            } else {
                algorithm.report("must be one of \(accessTokenAlgorithms.joined(separator: ", "))")
            }
        }
        if let keyFile = object.optional("keyFile"), let path = keyFile.nonEmptyString {
            if folder.contents(of: path) == nil { keyFile.report("cannot read key file \(path)") }
            settings.keyFile = path
        }
        return settings
    }

    private static func readLifetimes(_ reader: JSONReader?) -> Lifetimes {
        var lifetimes = Lifetimes()
        let fields: [(String, WritableKeyPath<Lifetimes, Int>)] = [
            ("jwtBearerAccessToken", \.jwtBearerAccessToken),
            ("authorizationCodeAccessToken", \.authorizationCodeAccessToken),
            ("authorizationCode", \.authorizationCode),
            ("refreshTokenInactivity", \.refreshTokenInactivity),
            ("refreshTokenAbsolute", \.refreshTokenAbsolute),
            ("oauth1AccessToken", \.oauth1AccessToken),
            ("assertionMax", \.assertionMax),
            ("connectJwtMax", \.connectJwtMax),
            ("refreshTokenReuseGrace", \.refreshTokenReuseGrace),
        ]
        guard let object = reader?.object(keys: fields.map(\.0)) else { return lifetimes }
        for (key, path) in fields {
            // The grace window may be 0 (no grace); every lifetime must be positive.
            let lower = key == "refreshTokenReuseGrace" ? 0 : 1
            lifetimes[keyPath: path] = object.integer(
                key, in: lower...Int(Int32.max), default: lifetimes[keyPath: path])
        }
        return lifetimes
    }

    private static func readAudiences(_ reader: JSONReader?) -> [String] {
        guard let elements = reader?.elements else { return [] }
        return elements.compactMap { element in
            guard let text = element.nonEmptyString else { return nil }
            if let problem = ValueRules.httpURL(text) {
                element.report(problem)
                return nil
            }
            return text
        }
    }

    private static func readSite(_ reader: JSONReader?) -> SiteSettings {
        var site = SiteSettings()
        guard let object = reader?.object(keys: ["id", "name"]) else { return site }
        site.id = object.optional("id", nullMeansAbsent: true)?.nonEmptyString
        site.name = object.string("name", default: site.name)
        return site
    }

    private static func readLogin(_ reader: JSONReader?) -> LoginSettings {
        var login = LoginSettings()
        guard let object = reader?.object(keys: ["local", "trustedHeader"]) else { return login }
        login.local = object.bool("local", default: true)
        login.trustedHeader = object.optional("trustedHeader", nullMeansAbsent: true)?.nonEmptyString
        return login
    }
}
