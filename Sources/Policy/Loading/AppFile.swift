/// Reads one `apps/*.json` file into an `AppPolicy`.
enum AppFile {
    static let folder = "apps"
    static let keys = [
        "key", "name", "enabled", "sharedSecret", "oauthClientId", "scopes", "appUser", "oauth2", "oauth1", "connect",
    ]

    /// HS256 keys shorter than the hash output weaken it (RFC 7518 §3.2 asks for
    /// at least 256 bits); Atlassian's shared secrets are longer still.
    static let minimumSharedSecretBytes = 32

    /// Every app file in `apps/`, sorted by file name. No `apps/` folder means no apps.
    static func readAll(_ folder: PolicyFolder) -> [AppPolicy] {
        guard let names = folder.entries(of: self.folder) else { return [] }
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.compactMap { name in
            read("\(self.folder)/\(name)", folder: folder)
        }
    }

    static func read(_ file: String, folder: PolicyFolder) -> AppPolicy? {
        guard let root = folder.readJSON(file, required: true), let object = root.object(keys: keys) else { return nil }
        guard let key = object.required("key")?.nonEmptyString else { return nil }
        var app = AppPolicy(key: key, source: root.location)
        app.name = object.string("name", default: key)
        app.enabled = object.bool("enabled", default: true)
        if let reader = object.optional("sharedSecret") {
            app.sharedSecret = folder.secret(reader)
            if let secret = app.sharedSecret, secret.bytes.count < minimumSharedSecretBytes {
                reader.report("a shared secret must be at least \(minimumSharedSecretBytes) bytes")
            }
        }
        app.oauthClientId = object.optional("oauthClientId")?.nonEmptyString
        app.scopes = object.strings("scopes").map(ScopeNames.canonical)
        app.appUser = object.optional("appUser")?.nonEmptyString
        if app.sharedSecret != nil, object.object["appUser"] == nil {
            // Connect JWTs run as the app user, so an app that can sign them needs one.
            folder.log.report(root.location.appending("appUser"), "is required when sharedSecret is set")
        }
        app.oauth2 = object.optional("oauth2").flatMap { readOAuth2($0, folder: folder) }
        app.oauth1 = object.optional("oauth1").flatMap { readOAuth1($0, folder: folder) }
        app.connect = object.optional("connect").flatMap(readConnect)
        return app
    }

    /// `connect`: where an installed app's lifecycle callbacks go (docs/connect-install.md).
    static func readConnect(_ reader: JSONReader) -> ConnectLifecycle? {
        guard let object = reader.object(keys: ["baseUrl", "lifecycle", "descriptor"]) else { return nil }
        var baseUrl: String?
        if let baseUrlReader = object.required("baseUrl"), let url = baseUrlReader.nonEmptyString {
            if let problem = ValueRules.appBaseURL(url) { baseUrlReader.report(problem) } else { baseUrl = url }
        }
        var paths: [String: String] = [:]
        if let lifecycle = object.optional("lifecycle")?.object(keys: ConnectLifecycle.events) {
            for event in ConnectLifecycle.events {
                guard let pathReader = lifecycle.optional(event), let path = pathReader.nonEmptyString else { continue }
                if let problem = ValueRules.lifecyclePath(path) {
                    pathReader.report(problem)
                } else {
                    paths[event] = path
                }
            }
        }
        let descriptor = object.optional("descriptor")?.nonEmptyString
        guard let baseUrl else { return nil }
        return ConnectLifecycle(
            baseUrl: ValueRules.withoutTrailingSlash(baseUrl), paths: paths, descriptor: descriptor)
    }

    private static func readOAuth2(_ reader: JSONReader, folder: PolicyFolder) -> OAuth2Client? {
        let keys = ["clientId", "clientSecret", "public", "redirectUris", "scopes"]
        guard let object = reader.object(keys: keys), let clientId = object.required("clientId")?.nonEmptyString else {
            return nil
        }
        var client = OAuth2Client(clientId: clientId, source: reader.location)
        client.isPublic = object.bool("public", default: false)
        let secret = object.optional("clientSecret")
        if client.isPublic, let secret {
            secret.report("a public client has no client secret")
        } else if !client.isPublic {
            client.clientSecret = object.required("clientSecret").flatMap(folder.secret)
        }
        client.redirectUris = readRedirectURIs(object.required("redirectUris"))
        client.scopes = object.strings("scopes").map(ScopeNames.canonical)
        return client
    }

    private static func readRedirectURIs(_ reader: JSONReader?) -> [String] {
        guard let reader, let elements = reader.elements else { return [] }
        if elements.isEmpty { reader.report("must list at least one redirect URI") }
        return elements.compactMap { element in
            guard let uri = element.nonEmptyString else { return nil }
            if let problem = ValueRules.redirectURI(uri) {
                element.report(problem)
                return nil
            }
            return uri
        }
    }

    private static func readOAuth1(_ reader: JSONReader, folder: PolicyFolder) -> OAuth1Consumer? {
        let keys = ["consumerKey", "publicKeyFile", "callback", "twoLegged", "twoLeggedImpersonation"]
        guard let object = reader.object(keys: keys) else { return nil }
        let consumerKey = object.required("consumerKey")?.nonEmptyString
        let keyFile = object.required("publicKeyFile")
        guard let consumerKey, let keyFile, let (path, pem) = readPublicKey(keyFile, folder: folder) else { return nil }
        var consumer = OAuth1Consumer(
            consumerKey: consumerKey, publicKeyFile: path, publicKeyPEM: pem, source: reader.location)
        if let callback = object.optional("callback"), let uri = callback.nonEmptyString {
            if let problem = ValueRules.redirectURI(uri) { callback.report(problem) } else { consumer.callback = uri }
        }
        consumer.twoLegged = object.optional("twoLegged").map(readTwoLegged) ?? TwoLegged()
        consumer.twoLeggedImpersonation = object.bool("twoLeggedImpersonation", default: false)
        return consumer
    }

    private static func readPublicKey(_ reader: JSONReader, folder: PolicyFolder) -> (String, String)? {
        guard let path = reader.nonEmptyString else { return nil }
        guard let bytes = folder.contents(of: path) else {
            reader.report("cannot read public key file \(path)")
            return nil
        }
        let pem = String(decoding: bytes, as: UTF8.self)
        if let problem = ValueRules.publicKeyPEM(pem) {
            reader.report("\(path) \(problem)")
            return nil
        }
        return (path, pem)
    }

    private static func readTwoLegged(_ reader: JSONReader) -> TwoLegged {
        guard let object = reader.object(keys: ["enabled", "executeAs"]) else { return TwoLegged() }
        var twoLegged = TwoLegged(enabled: object.bool("enabled", default: false))
        twoLegged.executeAs = object.optional("executeAs")?.nonEmptyString
        if twoLegged.enabled, object.object["executeAs"] == nil {
            object.log.report(reader.location.appending("executeAs"), "is required when twoLegged is enabled")
        }
        return twoLegged
    }
}
