extension CrossChecks {
    /// Names that identify one thing must not identify two: the loser of a
    /// duplicate would be unreachable, or worse, a credential would pick either.
    func checkUniqueness() {
        var apps = UniqueNames(kind: "app key", log: log)
        var clientIds = UniqueNames(kind: "3LO client id", log: log)
        var consumerKeys = UniqueNames(kind: "OAuth 1.0a consumer key", log: log)
        var oauthClientIds = UniqueNames(kind: "oauthClientId", log: log)
        for app in document.apps {
            apps.insert(app.key, at: app.source.appending("key"))
            if let id = app.oauthClientId { oauthClientIds.insert(id, at: app.source.appending("oauthClientId")) }
            if let client = app.oauth2 { clientIds.insert(client.clientId, at: client.source.appending("clientId")) }
            if let consumer = app.oauth1 {
                consumerKeys.insert(consumer.consumerKey, at: consumer.source.appending("consumerKey"))
            }
        }
        checkUniqueUsers()
    }

    /// Names and emails are compared case-insensitively: Basic auth accepts either
    /// as the login, and people do not expect `Bob` and `bob` to be two accounts.
    private func checkUniqueUsers() {
        var accountIds = UniqueNames(kind: "accountId", log: log)
        var logins = UniqueNames(kind: "user name or email", log: log)
        for user in document.users {
            accountIds.insert(user.accountId, at: user.source.appending("accountId"))
            logins.insert(user.name.lowercased(), shown: user.name, at: user.source.appending("name"))
            if let email = user.email, email.lowercased() != user.name.lowercased() {
                logins.insert(email.lowercased(), shown: email, at: user.source.appending("email"))
            }
        }
    }
}

/// Remembers where each name was first seen and reports later duplicates there.
struct UniqueNames {
    let kind: String
    let log: ProblemLog
    private var seen: [String: PolicyLocation] = [:]

    init(kind: String, log: ProblemLog) {
        self.kind = kind
        self.log = log
    }

    mutating func insert(_ name: String, shown: String? = nil, at location: PolicyLocation) {
        if let first = seen[name] {
            log.report(location, "duplicate \(kind) \"\(shown ?? name)\" (first at \(first))")
        } else {
            seen[name] = location
        }
    }
}
