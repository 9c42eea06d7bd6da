import TestSupport
import Testing

@testable import Scopes

/// Random implication graphs, checked against plain fixed-point reference code.
@Suite struct ScopeImplicationPropertyTests {
    static let names: [Scope] = (0..<8).map { Scope("s\($0)") } + Scope.connectNames.map { Scope($0) }

    static func randomEdges(_ rng: inout SeededGenerator) -> [Scope: [Scope]] {
        var edges: [Scope: [Scope]] = [:]
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            let from = names.randomElement(using: &rng)!
            let to = names.randomElement(using: &rng)!
            edges[from, default: []].append(to)
        }
        return edges
    }

    /// Reference: grow every set until nothing changes.
    static func referenceClosures(_ edges: [Scope: [Scope]]) -> [Scope: Set<Scope>] {
        var reach: [Scope: Set<Scope>] = [:]
        for scope in names { reach[scope] = [scope] }
        var changed = true
        while changed {
            changed = false
            for (from, targets) in edges {
                for target in targets {
                    let before = reach[from]!.count
                    reach[from]!.formUnion(reach[target]!)
                    if reach[from]!.count != before { changed = true }
                }
            }
        }
        return reach
    }

    static func referenceHasCycle(_ edges: [Scope: [Scope]]) -> Bool {
        let reach = referenceClosures(edges)
        // A cycle exists when some scope reaches itself through at least one edge.
        return edges.contains { from, targets in targets.contains { reach[$0]!.contains(from) } }
    }

    static func allEdges(_ extra: [Scope: [Scope]]) -> [Scope: [Scope]] {
        ScopeImplication.builtInEdges.merging(extra) { $0 + $1 }
    }

    @Test func closureAndCycleDetectionAgreeWithReference() {
        var rng = SeededGenerator(seed: 0x5C0E)
        var acyclic = 0
        for _ in 0..<400 {
            let extra = Self.randomEdges(&rng)
            let all = Self.allEdges(extra)
            let hasCycle = Self.referenceHasCycle(all)
            do {
                let implication = try ScopeImplication(implies: extra)
                #expect(!hasCycle, "missed a cycle in \(extra)")
                let reference = Self.referenceClosures(all)
                for scope in Self.names {
                    #expect(Set(implication.closure(of: scope)) == reference[scope]!, "closure of \(scope) in \(extra)")
                }
                acyclic += 1
            } catch {
                #expect(hasCycle, "reported a cycle that is not there in \(extra)")
                if let cycle = ScopeImplication.cycle(in: all) {
                    for (from, to) in zip(cycle, cycle.dropFirst()) { #expect(all[from]!.contains(to)) }
                    #expect(cycle.first == cycle.last)
                } else {
                    Issue.record("cycle(in:) found nothing though init threw")
                }
            }
        }
        // Both branches must have been exercised for the test to mean anything.
        #expect(acyclic > 50 && acyclic < 390)
    }
}
