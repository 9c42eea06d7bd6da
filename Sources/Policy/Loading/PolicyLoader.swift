/// Loads a policy folder (docs/policies.md §1) into a `PolicyDocument`, or lists every
/// problem that stops it loading.
public enum PolicyLoader {
    /// Finds routes that tie: two routes a request could match equally well.
    /// Deciding that needs the matching rules, which belong to the decision
    /// module; the loader only reports what the check returns.
    public typealias RouteTieCheck = @Sendable ([RouteSpec]) -> [PolicyProblem]

    /// The files of the folder's top level; any other `*.json` there is reported,
    /// since a misspelt file name (`route.json`) would otherwise be ignored.
    static let topLevelFiles = [
        GatewayFile.name, UsersFile.name, PermissionsFile.name, RoutesFile.name, ScopesFile.name,
    ]

    /// Reads and checks every file of `folder`.
    ///
    /// A pure function of the folder's files and `environment` (which resolves
    /// `{"env": NAME}` secrets): it starts nothing and writes nothing.
    /// - Parameter routeTies: finds route ties; the default finds none
    ///   (`PolicyLoader.compile` passes the compiled route table's check).
    /// - Throws: `PolicyLoadError` listing every problem, each with its file and JSON pointer.
    public static func load(
        folder: String, environment: [String: String], routeTies: RouteTieCheck = PolicyLoader.routeTieProblems
    ) throws(PolicyLoadError) -> PolicyDocument {
        let log = ProblemLog()
        let policyFolder = PolicyFolder(path: folder, environment: environment, log: log)
        guard policyFolder.isDirectory("") else {
            throw PolicyLoadError(problems: [PolicyProblem(file: folder, pointer: "", message: "no such policy folder")]
            )
        }
        checkTopLevelNames(policyFolder)
        let gateway = GatewayFile.read(policyFolder)
        let apps = AppFile.readAll(policyFolder)
        let users = UsersFile.read(policyFolder)
        let grants = PermissionsFile.read(policyFolder)
        let (upstreams, routes) = RoutesFile.read(policyFolder)
        let implications = ScopesFile.read(policyFolder)
        // Without usable settings the load fails, but the other files are still
        // cross-checked, so one `check` run lists everything.
        let document = PolicyDocument(
            folder: folder, gateway: gateway ?? GatewaySettings(baseUrl: ""), apps: apps, users: users ?? [],
            grants: grants,
            upstreams: upstreams, routes: routes, scopeImplications: implications ?? [])
        CrossChecks(document: document, log: log, usersRead: users != nil, scopesRead: implications != nil).run()
        for problem in routeTies(routes) { log.report(problem) }
        guard log.isEmpty, gateway != nil else { throw PolicyLoadError(problems: log.byFile) }
        return document
    }

    /// The seam for route ties (docs/policies.md §7: ties are a `check` error): this
    /// default finds none. `PolicyLoader.compile` passes the compiled route table's
    /// check, so that `check` and the live matcher can never disagree on what a tie is.
    @Sendable
    public static func routeTieProblems(_ routes: [RouteSpec]) -> [PolicyProblem] {
        []
    }

    private static func checkTopLevelNames(_ folder: PolicyFolder) {
        for name in folder.entries(of: "") ?? [] where name.hasSuffix(".json") && !topLevelFiles.contains(name) {
            let hint = Spelling.closest(to: name, among: topLevelFiles).map { " (did you mean \($0)?)" } ?? ""
            folder.log.report(PolicyLocation(file: name), "unknown policy file\(hint)")
        }
    }
}
