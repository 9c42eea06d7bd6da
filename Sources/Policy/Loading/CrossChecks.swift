/// The checks that need more than one file: references between files, names
/// that must be unique across files, and scope names that must be known.
struct CrossChecks {
    let document: PolicyDocument
    let log: ProblemLog
    /// Whether `users.json` and `scopes.json` could be read; when one could not,
    /// the names it defines are not checked, so one broken file gives one problem.
    var usersRead = true
    var scopesRead = true

    func run() {
        if usersRead {
            checkUserReferences()
            checkGrantees()
        }
        checkUniqueness()
        checkUpstreams()
        if scopesRead { checkScopeNames() }
        ScopesFile.checkCycles(document.scopeImplications, log: log)
    }

    private var accountIds: Set<String> { Set(document.users.map(\.accountId)) }

    private func checkUserReferences() {
        let known = accountIds
        for app in document.apps {
            if let user = app.appUser, !known.contains(user) {
                log.report(app.source.appending("appUser"), "no user with accountId \"\(user)\" in users.json")
            }
            if let consumer = app.oauth1, let user = consumer.twoLegged.executeAs, !known.contains(user) {
                let location = consumer.source.appending("twoLegged").appending("executeAs")
                log.report(location, "no user with accountId \"\(user)\" in users.json")
            }
        }
    }

    private func checkUpstreams() {
        let names = Set(document.upstreams.map(\.name))
        for route in document.routes where !names.contains(route.upstream) {
            let known = names.sorted().joined(separator: ", ")
            log.report(
                route.source.appending("upstream"), "no upstream \"\(route.upstream)\" in upstreams (known: \(known))")
        }
    }

    private func checkGrantees() {
        let users = accountIds
        let groups = Set(document.users.flatMap(\.groups))
        for grant in document.grants {
            switch grant.grantee {
            case .user(let id) where !users.contains(id):
                log.report(grant.source.appending("user"), "no user with accountId \"\(id)\" in users.json")
            case .group(let group) where !groups.contains(group):
                log.report(grant.source.appending("group"), "no user in users.json is in group \"\(group)\"")
            default:
                break
            }
        }
    }

    /// Every scope a route or app names must be one Linkgate knows, or a typo
    /// (`READ_`) would make a route that nothing can ever call, or an app that
    /// silently holds less than its author meant.
    private func checkScopeNames() {
        let known = knownScopes
        func check(_ scopes: [String], at location: PolicyLocation) {
            for (index, scope) in scopes.enumerated() where !known.contains(scope) {
                log.report(location.appending(index: index), "unknown scope \"\(scope)\"")
            }
        }
        for route in document.routes { check(route.scopes, at: route.source.appending("scopes")) }
        for app in document.apps { check(app.scopes, at: app.source.appending("scopes")) }
    }

    /// Built-in Connect and classic Jira 3LO scopes, the names of `scopes.json`,
    /// and the 3LO scopes apps declare.
    var knownScopes: Set<String> {
        var known = ScopeNames.connect.union(ScopeNames.classicJira3LO)
        for spec in document.scopeImplications {
            known.insert(spec.scope)
            known.formUnion(spec.implies)
        }
        for app in document.apps { known.formUnion(app.oauth2?.scopes ?? []) }
        return known
    }
}
