import TestSupport
import Testing

@testable import Scopes

/// Random route tables, checked against a plain reference: match every rule on
/// its own, score it segment by segment, keep the lowest score.
@Suite struct RouteTablePropertyTests {
    static let literals = ["a", "b", ""]
    static let requestSegments = ["a", "b", "c", ""]
    static let methodSets = [["GET"], ["PUT"], ["GET", "PUT"]]

    static func randomTemplate(_ rng: inout SeededGenerator) -> String {
        var segments: [String] = []
        let count = Int.random(in: 1...3, using: &rng)
        for position in 0..<count {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1, 2: segments.append(literals.randomElement(using: &rng)!)
            case 3, 4: segments.append("{p\(position)}")
            default: segments.append(position == count - 1 ? "{r*}" : "{p\(position)}")
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    static func randomRules(_ rng: inout SeededGenerator) -> [RouteRule] {
        (0..<Int.random(in: 1...10, using: &rng)).map { index in
            try! RouteRule(
                index: index, methods: methodSets.randomElement(using: &rng)!,
                path: randomTemplate(&rng), upstream: "u")
        }
    }

    /// Shape of a template with parameter names erased: what makes two rules tie.
    static func shape(_ template: PathTemplate) -> [String] {
        template.segments.map {
            switch $0 {
            case .literal(let text): "L" + text
            case .parameter: "P"
            case .rest: "R"
            }
        }
    }

    static func referenceTies(_ rules: [RouteRule]) -> [Int] {
        var ties: [Int] = []
        for later in rules.indices {
            for earlier in 0..<later
            where shape(rules[earlier].path) == shape(rules[later].path)
                && !Set(rules[earlier].methods).isDisjoint(with: rules[later].methods)
            {
                ties.append(rules[later].index)
            }
        }
        return ties
    }

    /// Score per position (literal 0, parameter 1, rest 2; the end position 0 when
    /// the template ends with the path), and the captured raw values.
    static func referenceScore(_ template: PathTemplate, _ path: [String]) -> (score: [Int], captures: [String])? {
        var score: [Int] = []
        var captures: [String] = []
        for (position, segment) in template.segments.enumerated() {
            switch segment {
            case .literal(let text):
                guard position < path.count, path[position] == text else { return nil }
                score.append(0)
            case .parameter:
                guard position < path.count, !path[position].isEmpty else { return nil }
                score.append(1)
                captures.append(path[position])
            case .rest:
                guard position <= path.count else { return nil }
                score += Array(repeating: 2, count: path.count - position + 1)
                captures.append(path[position...].joined(separator: "/"))
                return (score, captures)
            }
        }
        guard template.segments.count == path.count else { return nil }
        return (score + [0], captures)
    }

    static func referenceMatch(_ rules: [RouteRule], method: String, path: [String]) -> (Int, [String])? {
        var best: (score: [Int], index: Int, captures: [String])?
        for rule in rules where rule.methods.contains(method) {
            guard let (score, captures) = referenceScore(rule.path, path) else { continue }
            if best == nil || score.lexicographicallyPrecedes(best!.score) { best = (score, rule.index, captures) }
        }
        return best.map { ($0.index, $0.captures) }
    }

    @Test func tiesAndMatchesAgreeWithReference() throws {
        var rng = SeededGenerator(seed: 0xF00D)
        var checkedTables = 0
        for _ in 0..<400 {
            let rules = Self.randomRules(&rng)
            let ties = Self.referenceTies(rules)
            #expect(RouteTable.problems(in: rules).map(\.ruleIndex) == ties, "ties in \(rules)")
            guard ties.isEmpty else { continue }
            let table = try RouteTable(rules)
            checkedTables += 1
            for _ in 0..<20 {
                let segments = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                    Self.requestSegments.randomElement(using: &rng)!
                }
                let method = ["GET", "PUT"].randomElement(using: &rng)!
                let path = "/" + segments.joined(separator: "/")
                let expected = Self.referenceMatch(rules, method: method, path: segments)
                let actual = table.match(method: method, path: path[...])
                #expect(actual?.rule.index == expected?.0, "\(method) \(path) in \(rules)")
                #expect(actual?.parameters.map { String($0.rawValue) } == expected?.1, "\(method) \(path)")
            }
        }
        #expect(checkedTables > 100)
    }

    @Test func largeTableMatchesEveryRoute() throws {
        let rules = try (0..<1000).map { index in
            try RouteRule(
                index: index, methods: ["GET"], path: "/rest/api/\(index % 10)/thing\(index)/{key}/sub", upstream: "u")
        }
        let table = try RouteTable(rules)
        for index in stride(from: 0, to: 1000, by: 37) {
            let match = table.match(method: "GET", path: "/rest/api/\(index % 10)/thing\(index)/K\(index)/sub")
            #expect(match?.rule.index == index)
            #expect(match?[parameter: "key"] == "K\(index)"[...])
        }
    }
}
