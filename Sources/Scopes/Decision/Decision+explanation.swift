extension Decision: CustomStringConvertible {
    /// The multi-line account `linkgate explain` prints: the request, each
    /// check's evidence and verdict, then `ALLOW` or `DENY` with the reason and
    /// status. Written from the trace's verdicts only.
    public var explanation: String {
        var lines = DecisionTrace.header(for: trace.request)
        for verdict in trace.verdicts { lines += verdict.explanationLines }
        switch outcome {
        case .allow: lines.append(Self.line("verdict", "ALLOW"))
        case .deny(let denial):
            lines.append(Self.line("verdict", "DENY \(denial.error) (\(denial.status)): \(denial.message)"))
        }
        return lines.joined(separator: "\n")
    }

    public var description: String { explanation }

    static func line(_ label: String, _ text: String) -> String {
        label.isEmpty
            ? String(repeating: " ", count: 13) + text
            : label + String(repeating: " ", count: max(1, 13 - label.count)) + text
    }
}

extension DecisionTrace {
    static func header(for request: DecisionRequest) -> [String] {
        var target = "\(request.method) \(request.rawPath)"
        if let query = request.rawQuery { target += "?\(query)" }
        var who = "\(request.credential)"
        if let app = request.appKey { who += ", app \(app)" }
        if let user = request.user { who += ", user \(user)" }
        return [Decision.line("request", target), Decision.line("credential", who)]
    }
}

extension Verdict {
    /// The evidence, then the outcome, as aligned lines.
    var explanationLines: [String] {
        var lines: [String]
        switch evidence {
        case .route(let match?):
            lines = [Decision.line("route", "\(match.rule)")]
            lines += match.parameters.map { Decision.line("parameter", "\($0)") }
        case .route(nil):
            lines = [Decision.line("route", "none matches")]
        case .credential:
            lines = []
        case .scope(let required, let held):
            let alternatives = required.isEmpty ? "(none)" : required.map(\.name).joined(separator: " | ")
            lines = [Decision.line("scopes", "required any of: \(alternatives)")]
            if let held {
                lines.append(Decision.line("", "held after implication: \(held.isEmpty ? "(none)" : "\(held)")"))
            }
        case .permission(let name, let resource, let grants):
            lines = [Decision.line("permission", "\(name) on \(Verdict.text(resource))")]
            lines += grants.map { Decision.line("granted by", "\($0)") }
        case .none:
            lines = []
        }
        lines.append(Decision.line("", "\(check): \(outcomeText)"))
        return lines
    }

    private var outcomeText: String {
        switch outcome {
        case .passed: "pass"
        case .skipped(let reason): "skipped (\(reason))"
        case .failed(let denial): "FAIL: \(denial.message)"
        }
    }

    private static func text(_ resolution: ResourceResolution) -> String {
        switch resolution {
        case .resolved(let resource): "\(resource)"
        case .undetermined(let reason): "an undetermined resource: \(reason)"
        }
    }
}
