// The route matcher (docs/testing.md, "Fuzzing"; docs/policies.md §7).
//
// The input is lines: route rules `METHOD[,METHOD…] TEMPLATE`, a line `=`, then
// requests `METHOD PATH`. Every request is matched by the compiled trie and by the
// rule of docs/policies.md §7 applied to each rule in turn (the most specific rule
// wins, compared segment by segment from the left: a literal beats `{name}`, which
// beats `{name*}`; a rule ending where the path ends beats a `{name*}` matching
// nothing); the two must pick the same rule and read the same parameters.
@testable import Scopes

func fuzzRouteMatcher(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let divider = lines.firstIndex(of: "=") ?? lines.endIndex
    var rules: [RouteRule] = []
    for line in lines[..<divider].prefix(24) {
        let (methods, template) = split(line)
        if let rule = try? RouteRule(
            index: rules.count, methods: methods.split(separator: ",").map(String.init), path: String(template),
            upstream: "u")
        {
            rules.append(rule)
        }
    }
    guard let table = try? RouteTable(rules) else {
        precondition(!RouteTable.problems(in: rules).isEmpty, "a refused table without a problem")
        return 0
    }
    for line in lines[divider...].dropFirst().prefix(24) {
        let (method, path) = split(line)
        let found = table.match(method: method, path: path)
        let expected = referenceMatch(rules, method: method, path: path)
        precondition(found?.rule.index == expected?.rule, "the trie and the reference pick different rules")
        if let found, let expected {
            let parameters = found.parameters.map { ($0.name, String($0.rawValue)) }
            precondition(parameters.elementsEqual(expected.parameters, by: ==), "different path parameters")
            for (name, value) in expected.parameters {
                precondition(found[parameter: name].map(String.init) == value, "a parameter read differently by name")
            }
        }
    }
    return 0
}

private func split(_ line: Substring) -> (Substring, Substring) {
    guard let space = line.firstIndex(of: " ") else { return (line, "") }
    return (line[..<space], line[line.index(after: space)...])
}

/// Specificity of one template segment: lower wins.
private func rank(_ segment: PathTemplate.Segment) -> Int {
    switch segment {
    case .literal: 0
    case .parameter: 1
    case .rest: 2
    }
}

/// Each rule alone, then the most specific of those that match.
private func referenceMatch(
    _ rules: [RouteRule], method: Substring, path: Substring
) -> (rule: Int, parameters: [(String, String)])? {
    guard path.first == "/" else { return nil }
    let segments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        .map { Array($0) }
    var best: (rule: Int, ranks: [Int], parameters: [(String, String)])?
    for rule in rules where rule.allows(method: method) {
        guard let parameters = match(rule.path, segments) else { continue }
        let ranks = rule.path.segments.map(rank)
        if let current = best, !precedes(ranks, current.ranks) { continue }
        best = (rule.index, ranks, parameters)
    }
    return best.map { ($0.rule, $0.parameters) }
}

/// Lexicographic on the ranks; a template that is a prefix of the other (it ends where
/// the path ends, the other goes on with a `{name*}` matching nothing) wins.
private func precedes(_ lhs: [Int], _ rhs: [Int]) -> Bool {
    for (left, right) in zip(lhs, rhs) where left != right { return left < right }
    return lhs.count < rhs.count
}

private func match(_ template: PathTemplate, _ segments: [[UInt8]]) -> [(String, String)]? {
    var parameters: [(String, String)] = []
    for (position, segment) in template.segments.enumerated() {
        switch segment {
        case .rest(let name):
            let rest = segments.dropFirst(position).map { String(decoding: $0, as: UTF8.self) }
            parameters.append((name, rest.joined(separator: "/")))
            return parameters
        case .literal(let text):
            guard position < segments.count, segments[position] == Array(text.utf8) else { return nil }
        case .parameter(let name):
            guard position < segments.count, !segments[position].isEmpty else { return nil }
            parameters.append((name, String(decoding: segments[position], as: UTF8.self)))
        }
    }
    return template.segments.count == segments.count ? parameters : nil
}
