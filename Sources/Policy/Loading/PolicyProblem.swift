/// Where in the policy folder a value was written: a file and a JSON pointer into it.
///
/// Kept on every loaded value so that later messages (a reload, `explain`, a
/// decision module finding a route tie) can point at the line a user must edit.
public struct PolicyLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file, relative to the policy folder, e.g. `apps/reports.json`.
    public let file: String
    /// An RFC 6901 JSON pointer into that file; `""` is the whole document.
    public let pointer: String

    public init(file: String, pointer: String = "") {
        self.file = file
        self.pointer = pointer
    }

    /// The location of an object member, its key escaped as RFC 6901 §3 asks
    /// (`~` becomes `~0`, `/` becomes `~1`, in that order).
    public func appending(_ key: String) -> PolicyLocation {
        let escaped = key.replacing("~", with: "~0").replacing("/", with: "~1")
        return PolicyLocation(file: file, pointer: pointer + "/" + escaped)
    }

    /// The location of an array element.
    public func appending(index: Int) -> PolicyLocation {
        PolicyLocation(file: file, pointer: pointer + "/" + String(index))
    }

    /// `FILE: /pointer`, or just `FILE` for the whole document.
    public var description: String {
        pointer.isEmpty ? file : "\(file): \(pointer)"
    }
}

/// One thing wrong with a policy folder.
public struct PolicyProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file, relative to the policy folder, e.g. `apps/reports.json`.
    public let file: String
    /// An RFC 6901 JSON pointer to the offending value; `""` for the whole file.
    public let pointer: String
    /// What is wrong, in words a user can act on. Never holds a secret's value.
    public let message: String

    public init(file: String, pointer: String, message: String) {
        self.file = file
        self.pointer = pointer
        self.message = message
    }

    public init(at location: PolicyLocation, _ message: String) {
        self.init(file: location.file, pointer: location.pointer, message: message)
    }

    /// `FILE: /json/pointer: message` (docs/policies.md §9); a problem
    /// with the whole file, such as a JSON syntax error, reads `FILE: message`.
    public var description: String {
        pointer.isEmpty ? "\(file): \(message)" : "\(file): \(pointer): \(message)"
    }
}

/// A policy folder that cannot be loaded, with every problem found in it.
///
/// The loader does not stop at the first problem: a user fixing a folder wants
/// the whole list at once, as `linkgate check` prints it, one line each.
public struct PolicyLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every problem found, in file order. Never empty.
    public let problems: [PolicyProblem]

    public init(problems: [PolicyProblem]) {
        self.problems = problems
    }

    /// One line per problem.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// Collects problems while a folder is read; shared by every reader of one load.
///
/// A class because many small readers append to one list; it never leaves the
/// `load` call, so it needs no locking.
final class ProblemLog {
    private(set) var problems: [PolicyProblem] = []

    func report(_ location: PolicyLocation, _ message: String) {
        problems.append(PolicyProblem(at: location, message))
    }

    func report(_ problem: PolicyProblem) {
        problems.append(problem)
    }

    var isEmpty: Bool { problems.isEmpty }

    /// The problems grouped by file, files in the order they were first
    /// reported (the order they are read), each file's problems in report order:
    /// cross-file checks run last but their problems read best beside the rest.
    var byFile: [PolicyProblem] {
        var order: [String: Int] = [:]
        for problem in problems where order[problem.file] == nil { order[problem.file] = order.count }
        return problems.enumerated()
            .sorted { (order[$0.element.file]!, $0.offset) < (order[$1.element.file]!, $1.offset) }
            .map(\.element)
    }
}
