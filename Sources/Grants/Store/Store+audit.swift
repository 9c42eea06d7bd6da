import SQLKit

extension Store {
    /// Appends entries in one statement (the audit writer batches them).
    public func append(audit entries: [AuditEntry]) async throws(StoreError) {
        guard !entries.isEmpty else { return }
        try await session("write the audit log") { database in
            var insert = database.insert(into: "audit").columns(
                "at_ms", "request_id", "app_key", "account_id", "credential", "route", "method", "verdict", "reason",
                "status")
            for entry in entries {
                insert = insert.values(
                    SQLBind(entry.at), SQLBind(entry.requestId), SQLBind(entry.appKey), SQLBind(entry.accountId),
                    SQLBind(entry.credential), SQLBind(entry.route), SQLBind(entry.method),
                    SQLBind(entry.verdict.rawValue), SQLBind(entry.reason), SQLBind(entry.status))
            }
            try await insert.run()
        }
    }

    /// Entries matching `query`, oldest first, at most `query.limit` (the newest ones).
    public func audit(_ query: AuditQuery) async throws(StoreError) -> [AuditEntry] {
        try await read("read the audit log") { database in
            var select = database.select()
                .columns(
                    "at_ms", "request_id", "app_key", "account_id", "credential", "route", "method", "verdict",
                    "reason", "status"
                )
                .from("audit")
            if let since = query.sinceMilliseconds { select = select.where("at_ms", .greaterThanOrEqual, since) }
            if let app = query.appKey { select = select.where("app_key", .equal, app) }
            if let user = query.accountId { select = select.where("account_id", .equal, user) }
            let rows = try await select.orderBy("id", .descending).limit(query.limit).all()
            return try rows.reversed().map { row in
                AuditEntry(
                    at: try row.decode(column: "at_ms", as: Int64.self),
                    requestId: try row.decode(column: "request_id", as: String.self),
                    appKey: try row.decode(column: "app_key", as: String?.self),
                    accountId: try row.decode(column: "account_id", as: String?.self),
                    credential: try row.decode(column: "credential", as: String.self),
                    route: try row.decode(column: "route", as: String?.self),
                    method: try row.decode(column: "method", as: String.self),
                    verdict: AuditEntry.Verdict(rawValue: try row.decode(column: "verdict", as: String.self)) ?? .deny,
                    reason: try row.decode(column: "reason", as: String.self),
                    status: try row.decode(column: "status", as: Int.self))
            }
        }
    }
}
