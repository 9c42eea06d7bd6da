import ArgumentParser
import Foundation
import Grants

/// `linkgate audit`: prints the decisions kept in the store, oldest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print the audit log: every decision the gateways sharing the store made.",
        discussion: """
            One line per decision: time (UTC), request id, verdict, status, credential kind, app, acting user, \
            method, route and reason. Tokens are never recorded. --json prints one JSON object per line instead.
            """
    )

    @OptionGroup var policies: PolicyOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("Only the last DURATION: 90s, 15m, 2h, 7d.", valueName: "DURATION"))
    var since: String?

    @Option(help: "Only decisions about this app.")
    var app: String?

    @Option(help: ArgumentHelp("Only decisions acting as this user.", valueName: "ACCOUNT_ID"))
    var user: String?

    @Option(help: "At most this many entries (the newest).")
    var limit: Int = 1000

    @Flag(help: "One JSON object per line.")
    var json = false

    func validate() throws {
        if let since, AuditDuration.seconds(since) == nil {
            throw ValidationError("--since must be a number with s, m, h or d (90s, 15m, 2h, 7d), not \"\(since)\"")
        }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let policy = try policies.load()
        let store = try await storeOptions.open(policy: policy, folder: try policies.resolvedFolder())
        let query = AuditQuery(
            sinceMilliseconds: since.flatMap(AuditDuration.seconds).map { UnixMilliseconds.now() - $0 * 1_000 },
            appKey: app, accountId: user, limit: limit)
        let entries: [AuditEntry]
        do {
            entries = try await store.audit(query)
        } catch {
            await store.close()
            throw CommandFailure(message: error.message)
        }
        await store.close()
        var output = ""
        for entry in entries { output += (json ? AuditLine.json(entry) : AuditLine.text(entry)) + "\n" }
        print(output, terminator: "")
    }
}

/// `90s`, `15m`, `2h`, `7d` in seconds.
enum AuditDuration {
    static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number >= 0 else { return nil }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        case "d": return number * 86_400
        default: return nil
        }
    }
}

enum AuditLine {
    static func text(_ entry: AuditEntry) -> String {
        [
            timestamp(entry.at), entry.requestId, entry.verdict.rawValue.uppercased(), String(entry.status),
            entry.credential,
            "app=\(entry.appKey ?? "-")", "user=\(entry.accountId ?? "-")", entry.method, entry.route ?? "-",
            entry.reason,
        ]
        .joined(separator: " ")
    }

    static func json(_ entry: AuditEntry) -> String {
        var object: [String: Any] = [
            "time": timestamp(entry.at), "request_id": entry.requestId, "verdict": entry.verdict.rawValue,
            "status": entry.status, "credential": entry.credential, "method": entry.method, "reason": entry.reason,
        ]
        object["app"] = entry.appKey
        object["user"] = entry.accountId
        object["route"] = entry.route
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timestamp(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))
    }
}
