/// What a resource template gives for one request.
public enum ResourceResolution: Hashable, Sendable {
    case resolved(Resource)
    /// The request does not say which resource it is about: a query parameter
    /// is missing, empty or given twice with different values, or a value is
    /// badly percent-encoded. The decision is then a DENY, because no grant can be
    /// shown to cover an unknown resource.
    case undetermined(reason: String)
}

extension ResourceTemplate {
    /// Fills the template from a match's path parameters and the raw query
    /// (without `?`). Values are percent-decoded; a query's `+` is a space.
    ///
    /// The ID is used as decoded, never re-parsed: a path segment `*` names the
    /// item `*`, which only `TYPE:*` grants cover, so it cannot widen a request.
    public func resolve(parameters: [PathParameter], rawQuery: Substring?) -> ResourceResolution {
        resolve(rawQuery: rawQuery) { name in parameters.first { $0.name == name }?.rawValue }
    }

    /// Fills the template for a route match, reading its parameters off the path.
    func resolve(match: RouteMatch, rawQuery: Substring?) -> ResourceResolution {
        resolve(rawQuery: rawQuery) { name in match[parameter: name] }
    }

    /// The one resolver: `rawParameter` gives a path parameter's raw value by name.
    private func resolve(rawQuery: Substring?, rawParameter: (String) -> Substring?) -> ResourceResolution {
        let (type, pieces): (String, [Piece])
        switch shape {
        case .fixed(let resource): return .resolved(resource)
        case .templated(let t, let p): (type, pieces) = (t, p)
        }
        var id = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                id += text
            case .pathParameter(let name):
                guard let raw = rawParameter(name), let value = PercentDecoding.decode(raw, plusAsSpace: false),
                    !value.isEmpty
                else { return .undetermined(reason: "path parameter '\(name)' is empty or badly encoded") }
                id += value
            case .queryParameter(let name):
                switch ResourceTemplate.queryValue(named: name, in: rawQuery) {
                case .success(let value): id += value
                case .failure(let problem): return .undetermined(reason: problem.message(name))
                }
            }
        }
        return .resolved(.item(type: type, id: id))
    }

    enum QueryProblem: Error {
        case missing, empty, ambiguous, lookalike, separator, badEncoding

        func message(_ name: String) -> String {
            switch self {
            case .missing: "query parameter '\(name)' is missing"
            case .empty: "query parameter '\(name)' is empty"
            case .ambiguous: "query parameter '\(name)' is given more than once with different values"
            case .lookalike:
                "the query has a parameter that other servers read as '\(name)' (another case, spaces, [], a "
                    + "trailing dot or a NUL): which one the backend uses is ambiguous"
            case .separator: "query parameter '\(name)' holds a ';', which some servers read as a separator"
            case .badEncoding: "query parameter '\(name)' is badly percent-encoded"
            }
        }
    }

    /// A query parameter name as servers that are lenient about names read it:
    /// lower case, without surrounding whitespace, a `[]` or `.` suffix, or
    /// anything from a NUL on. Two names that fold alike may name one parameter
    /// to the backend.
    static func folded(_ name: String) -> String {
        var name = name
        let ascii = name.withUTF8 { bytes in
            ASCIIFold(bytes).map { fold in String(decoding: fold.lowercasedBytes(of: bytes), as: UTF8.self) }
        }
        return ascii ?? unicodeFolded(name)
    }

    /// `folded` for any name: Unicode lower case and whitespace.
    static func unicodeFolded(_ name: String) -> String {
        var scalars = Substring(name.lowercased()).unicodeScalars.prefix { $0 != "\0" }
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        var text = String(String.UnicodeScalarView(scalars))
        if text.hasSuffix("[]") { text.removeLast(2) }
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Whether a query key (raw, as received) folds to `foldedName`: the key that
    /// names another parameter to the gateway but maybe the same one to the backend.
    /// A key of ASCII bytes that needs no decoding, as nearly every key is, is
    /// compared where it lies, without making a `String` of it.
    static func foldsAlike(_ rawKey: UnsafeBufferPointer<UInt8>, _ foldedName: String) -> Bool {
        if !PercentDecoding.needsDecoding(rawKey, plusAsSpace: true), let fold = ASCIIFold(rawKey) {
            return foldedName.utf8.elementsEqual(fold.lowercasedBytes(of: rawKey))
        }
        guard let key = PercentDecoding.decode(bytes: rawKey, plusAsSpace: true) else { return false }
        return folded(key) == foldedName
    }

    /// The one value of a query parameter. A parameter given twice with
    /// different values is refused: the gateway and the backend might read
    /// different ones, and the permission test must be about what the backend does.
    static func queryValue(named name: String, in rawQuery: Substring?) -> Result<String, QueryProblem> {
        guard let rawQuery else { return .failure(.missing) }
        return rawQuery.utf8.withContiguousStorageIfAvailable { queryValue(named: name, in: $0) }
            ?? Array(rawQuery.utf8).withUnsafeBufferPointer { queryValue(named: name, in: $0) }
    }

    /// `queryValue` over the query's bytes. Names and values are compared as
    /// bytes, never as `String`s (whose equality is canonical equivalence): two
    /// spellings the backend can tell apart are two values here too. A name that
    /// only folds to `name` (`ProjectKey`, `projectKey[]`) makes the request
    /// ambiguous, as does a `;` in the value.
    private static func queryValue(
        named name: String, in query: UnsafeBufferPointer<UInt8>
    ) -> Result<String, QueryProblem> {
        let foldedName = folded(name)
        var found: String?
        var start = 0
        while start < query.count {
            var end = start
            while end < query.count, query[end] != UInt8(ascii: "&") { end += 1 }
            defer { start = end + 1 }
            guard end > start else { continue }
            var equals = start
            while equals < end, query[equals] != UInt8(ascii: "=") { equals += 1 }
            let rawKey = UnsafeBufferPointer(rebasing: query[start..<equals])
            guard
                rawKey.elementsEqual(name.utf8)
                    || PercentDecoding.needsDecoding(rawKey, plusAsSpace: true)
                        && PercentDecoding.decode(bytes: rawKey, plusAsSpace: true)?.utf8.elementsEqual(name.utf8)
                            == true
            else {
                if foldsAlike(rawKey, foldedName) { return .failure(.lookalike) }
                continue
            }
            let rawValue = UnsafeBufferPointer(rebasing: query[min(equals + 1, end)..<end])
            if rawValue.contains(UInt8(ascii: ";")) { return .failure(.separator) }
            guard let value = PercentDecoding.decode(bytes: rawValue, plusAsSpace: true) else {
                return .failure(.badEncoding)
            }
            if let found, !found.utf8.elementsEqual(value.utf8) { return .failure(.ambiguous) }
            found = value
        }
        guard let found else { return .failure(.missing) }
        return found.isEmpty ? .failure(.empty) : .success(found)
    }
}

/// `ResourceTemplate.folded` over a name of ASCII bytes: lower-casing keeps each
/// byte in place, so the fold is a range of the bytes, lower-cased. Only for ASCII:
/// Unicode lower case takes some other characters to ASCII ones (KELVIN SIGN to
/// `k`), and has whitespace beyond ASCII's.
struct ASCIIFold {
    let range: Range<Int>

    /// The fold of `bytes`, or nil when a byte is not ASCII.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var end = bytes.firstIndex(of: 0) ?? bytes.count
        var start = 0
        while start < end, Self.isWhitespace(bytes[start]) { start += 1 }
        while end > start, Self.isWhitespace(bytes[end - 1]) { end -= 1 }
        if end - start >= 2, bytes[end - 2] == UInt8(ascii: "["), bytes[end - 1] == UInt8(ascii: "]") { end -= 2 }
        while end > start, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        range = start..<end
    }

    /// The folded name's bytes, out of the bytes it was made from.
    func lowercasedBytes(
        of bytes: UnsafeBufferPointer<UInt8>
    ) -> LazyMapSequence<Slice<UnsafeBufferPointer<UInt8>>, UInt8> {
        bytes[range].lazy.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
    }

    /// Unicode's White_Space among ASCII bytes: tab, line feed, vertical tab, form feed, carriage return, space.
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte)
    }
}
