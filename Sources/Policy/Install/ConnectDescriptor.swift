import JWT

/// An Atlassian Connect app descriptor (`atlassian-connect.json`), as `linkgate
/// app install` reads it (docs/connect-install.md, docs/protocols.md §7): the
/// fields a host uses, checked. Every other member (modules, vendor, links…) is
/// the app's business and is ignored.
public struct ConnectDescriptor: Sendable, Equatable {
    /// The app key: the `iss` of its Connect JWTs, and the name of its files.
    public var key: String
    public var name: String
    public var description: String?
    /// Without a trailing `/`.
    public var baseUrl: String
    /// As written in the descriptor; Connect names are upper-cased by the policy.
    public var scopes: [String]
    /// The lifecycle paths under `baseUrl`; `installed` is always there.
    public var lifecycle: ConnectLifecycle

    /// The longest app key accepted: Atlassian allows 64 characters; the key also names files.
    public static let maximumKeyLength = 64

    /// Reads and checks a descriptor.
    /// - Parameters:
    ///   - bytes: the descriptor's bytes.
    ///   - source: where it came from, for messages and the app file's `connect.descriptor`.
    ///   - knownScopes: the scope names the policy knows (`CompiledPolicy.knownScopes`).
    /// - Throws: `PolicyLoadError` listing every problem as `SOURCE: /pointer: message`.
    public static func parse(
        _ bytes: [UInt8], source: String, knownScopes: Set<String>
    ) throws(PolicyLoadError) -> ConnectDescriptor {
        let location = PolicyLocation(file: source)
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes, limits: .document)
        } catch {
            throw PolicyLoadError(problems: [PolicyProblem(at: location, "is not a JSON descriptor: \(error.reason)")])
        }
        let log = ProblemLog()
        guard let object = value.objectValue else {
            throw PolicyLoadError(problems: [
                PolicyProblem(at: location, "expected a JSON object (atlassian-connect.json), found \(value.typeName)")
            ])
        }
        let root = ObjectReader(object: object, location: location, log: log)
        let key = readKey(root)
        let name = root.optional("name")?.nonEmptyString
        let description = root.optional("description", nullMeansAbsent: true)?.string
        let baseUrl = readBaseURL(root)
        readAuthentication(root)
        let scopes = readScopes(root, knownScopes: knownScopes)
        let paths = readLifecycle(root)
        guard log.isEmpty, let key, let baseUrl, let paths else { throw PolicyLoadError(problems: log.problems) }
        return ConnectDescriptor(
            key: key, name: name ?? key, description: description, baseUrl: baseUrl, scopes: scopes,
            lifecycle: ConnectLifecycle(baseUrl: baseUrl, paths: paths, descriptor: source))
    }

    private static func readKey(_ root: ObjectReader) -> String? {
        guard let reader = root.required("key"), let key = reader.nonEmptyString else { return nil }
        let allowed = key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard allowed, !key.hasPrefix("."), key.count <= maximumKeyLength else {
            reader.report(
                "must be 1 to \(maximumKeyLength) letters, digits, '.', '_' or '-', not starting with '.' "
                    + "(it names the app's files)")
            return nil
        }
        return key
    }

    private static func readBaseURL(_ root: ObjectReader) -> String? {
        guard let reader = root.required("baseUrl"), let url = reader.nonEmptyString else { return nil }
        if let problem = ValueRules.appBaseURL(url) {
            reader.report(problem)
            return nil
        }
        return ValueRules.withoutTrailingSlash(url)
    }

    /// `authentication.type` must be `jwt`: only such an app receives a shared secret.
    private static func readAuthentication(_ root: ObjectReader) {
        guard let reader = root.required("authentication"), let members = reader.members else { return }
        let object = ObjectReader(
            object: JSONObject(members.map { ($0.key, $0.reader.value) }), location: reader.location, log: reader.log)
        guard let typeReader = object.required("type"), let type = typeReader.string else { return }
        if type.lowercased() != "jwt" {
            typeReader.report(
                "must be \"jwt\", found \"\(type)\": Linkgate installs apps that sign their calls with a shared "
                    + "secret; an app with \"none\" never calls the site and needs no install")
        }
    }

    private static func readScopes(_ root: ObjectReader, knownScopes: Set<String>) -> [String] {
        guard let reader = root.optional("scopes"), let elements = reader.elements else { return [] }
        return elements.compactMap { element in
            guard let scope = element.nonEmptyString else { return nil }
            guard knownScopes.contains(ScopeNames.canonical(scope)) else {
                element.report("unknown scope \"\(scope)\"")
                return nil
            }
            return scope
        }
    }

    /// `lifecycle`: `installed` is required (it receives the shared secret); the others are optional.
    private static func readLifecycle(_ root: ObjectReader) -> [String: String]? {
        guard let reader = root.required("lifecycle"), let members = reader.members else { return nil }
        var paths: [String: String] = [:]
        var complete = true
        for (event, pathReader) in members where ConnectLifecycle.events.contains(event) {
            guard let path = pathReader.nonEmptyString else {
                complete = false
                continue
            }
            if let problem = ValueRules.lifecyclePath(path) {
                pathReader.report(problem)
                complete = false
            } else {
                paths[event] = path
            }
        }
        if paths["installed"] == nil, complete {
            root.log.report(reader.location.appending("installed"), "is required: it receives the shared secret")
            return nil
        }
        return complete ? paths : nil
    }
}

extension CompiledPolicy {
    /// Every scope name this policy knows (docs/policies.md §8): the names an app's `scopes` may use.
    public var knownScopes: Set<String> {
        CrossChecks(document: document, log: ProblemLog()).knownScopes
    }
}
