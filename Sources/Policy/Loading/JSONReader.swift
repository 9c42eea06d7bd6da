import JWT

/// Walks one JSON value of a policy file, knowing where it is, and reports what
/// is wrong with it to the load's `ProblemLog` instead of throwing.
///
/// Every accessor returns `nil` after reporting a problem, so a file is read to
/// the end and every mistake in it is listed, not just the first.
struct JSONReader {
    let value: JSONValue
    let location: PolicyLocation
    let log: ProblemLog

    func report(_ message: String) {
        log.report(location, message)
    }

    private func mismatch(_ expected: String) {
        report("expected \(expected), found \(value.typeName)")
    }

    var string: String? {
        guard let string = value.stringValue else {
            mismatch("a string")
            return nil
        }
        return string
    }

    /// A string that must not be empty (names, keys, ids).
    var nonEmptyString: String? {
        guard let string else { return nil }
        if string.isEmpty {
            report("must not be empty")
            return nil
        }
        return string
    }

    var bool: Bool? {
        guard let bool = value.boolValue else {
            mismatch("a boolean")
            return nil
        }
        return bool
    }

    /// An integer in `range`; fractional numbers are refused, not rounded.
    func integer(in range: ClosedRange<Int>) -> Int? {
        guard let int64 = value.int64Value else {
            mismatch("an integer")
            return nil
        }
        guard let int = Int(exactly: int64), range.contains(int) else {
            report("must be between \(range.lowerBound) and \(range.upperBound), found \(int64)")
            return nil
        }
        return int
    }

    /// The elements of an array, each with its own reader.
    var elements: [JSONReader]? {
        guard let array = value.arrayValue else {
            mismatch("an array")
            return nil
        }
        return array.enumerated().map { index, element in
            JSONReader(value: element, location: location.appending(index: index), log: log)
        }
    }

    /// An array of strings; elements of another type are reported and left out.
    var strings: [String]? {
        elements?.compactMap(\.string)
    }

    /// An array of non-empty strings.
    var nonEmptyStrings: [String]? {
        elements?.compactMap(\.nonEmptyString)
    }

    /// The members of an object that may hold any keys (maps such as `upstreams`).
    var members: [(key: String, reader: JSONReader)]? {
        guard let object = value.objectValue else {
            mismatch("an object")
            return nil
        }
        return object.map { member in
            (member.key, JSONReader(value: member.value, location: location.appending(member.key), log: log))
        }
    }

    /// An object whose keys must all be in `keys`; any other key is reported,
    /// because a misspelt key must not silently leave a default in force.
    func object(keys: [String]) -> ObjectReader? {
        guard let object = value.objectValue else {
            mismatch("an object")
            return nil
        }
        for key in object.keys where !keys.contains(key) {
            let hint = Spelling.closest(to: key, among: keys).map { " (did you mean \"\($0)\"?)" } ?? ""
            log.report(location.appending(key), "unknown key \"\(key)\"\(hint)")
        }
        return ObjectReader(object: object, location: location, log: log)
    }
}

/// An object of a policy file whose keys have been checked, read member by member.
struct ObjectReader {
    let object: JSONObject
    let location: PolicyLocation
    let log: ProblemLog

    /// The member, or `nil` when it is absent. `null` counts as absent only
    /// where `nullMeansAbsent` says so (for members whose default is `null`).
    func optional(_ key: String, nullMeansAbsent: Bool = false) -> JSONReader? {
        guard let value = object[key] else { return nil }
        if nullMeansAbsent, value.isNull { return nil }
        return JSONReader(value: value, location: location.appending(key), log: log)
    }

    /// The member; reports it at its own pointer when it is absent.
    func required(_ key: String) -> JSONReader? {
        guard let reader = optional(key) else {
            log.report(location.appending(key), "is required")
            return nil
        }
        return reader
    }

    func string(_ key: String, default fallback: String) -> String {
        optional(key)?.nonEmptyString ?? fallback
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        optional(key)?.bool ?? fallback
    }

    func integer(_ key: String, in range: ClosedRange<Int>, default fallback: Int) -> Int {
        optional(key)?.integer(in: range) ?? fallback
    }

    func strings(_ key: String) -> [String] {
        optional(key)?.nonEmptyStrings ?? []
    }
}

/// Suggests the intended key for a misspelt one.
enum Spelling {
    /// The candidate nearest to `word` by edit distance, when it is near enough
    /// to be a plausible typo (at most a third of the word, and at least one edit).
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// Levenshtein distance, one row at a time.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
