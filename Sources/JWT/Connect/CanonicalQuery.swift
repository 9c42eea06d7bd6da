/// The canonical query (docs/protocols.md §2) of a raw query, written as bytes.
///
/// A query that is already canonical (`writeIfCanonical`: every parameter
/// written as the encoder would write it, names strictly increasing) is copied
/// less its empty and `jwt` parameters. Any other query takes the full path
/// (`writeSorted`): each parameter's name is form-decoded and re-encoded, its
/// value form-decoded, both into one scratch arena; the (encoded name, decoded
/// value) pairs are then sorted and equal names grouped where adjacent: a map of
/// name → sorted values, since equal encoded names are equal decoded names.
enum CanonicalQuery {
    /// One parameter: arena offsets of its encoded name and decoded value, and
    /// whether the value is plain (its encoding is itself: copied, not re-encoded).
    struct Entry {
        var nameStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int
        var valueIsPlain: Bool
    }

    static func write(_ rawQuery: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) throws(JWTError) {
        guard !rawQuery.isEmpty, !writeIfCanonical(rawQuery, into: &sink) else { return }
        try writeSorted(rawQuery, into: &sink)
    }

    /// The full path: decodes, sorts and re-encodes every parameter, and throws
    /// for the first malformed one. `write` comes here for any query that
    /// `writeIfCanonical` declines; the tests call it directly to compare the two.
    static func writeSorted(_ rawQuery: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) throws(JWTError) {
        guard !rawQuery.isEmpty else { return }
        // A parameter needs at least one byte and one `&`; a name may decode then triple.
        let maxEntries = rawQuery.count / 2 + 1
        try withUnsafeTemporaryAllocation(of: Entry.self, capacity: maxEntries) { (entries) throws(JWTError) in
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 * rawQuery.count) {
                (arena) throws(JWTError) in
                var scratch = ByteSink(arena)
                let count = try collect(rawQuery, into: entries, arena: &scratch)
                var sorted = UnsafeMutableBufferPointer(rebasing: entries[..<count])
                let bytes = UnsafeBufferPointer(arena)
                sorted.sort { precedes($0, $1, in: bytes) }
                emit(sorted, arena: bytes, into: &sink)
            }
        }
    }

    /// Decodes every non-empty `&`-separated parameter, in order (so the first
    /// malformed one is the one reported), and returns how many were kept.
    private static func collect(
        _ rawQuery: UnsafeBufferPointer<UInt8>, into entries: UnsafeMutableBufferPointer<Entry>,
        arena: inout ByteSink
    ) throws(JWTError) -> Int {
        var count = 0
        var start = 0
        while start <= rawQuery.count {
            let parameter = split(rawQuery, from: start)
            if parameter.end > start, let entry = try decodeParameter(parameter, in: rawQuery, arena: &arena) {
                precondition(count < entries.count, "too many query parameters for the entry buffer")
                entries[count] = entry
                count += 1
            }
            start = parameter.end + 1
        }
        return count
    }

    /// Where one raw parameter ends and splits, found in a single pass over its bytes.
    private struct RawParameter {
        var start: Int
        /// The first `=`, or `end` when there is none.
        var equals: Int
        /// The `&` after the parameter, or the end of the query.
        var end: Int
        /// Every byte of the name, or of the value, is unreserved: it decodes and
        /// encodes to itself (no `+`, no `%`), so a copy is the whole work.
        var nameIsPlain: Bool
        var valueIsPlain: Bool
    }

    /// The parameter starting at `start`: its `=` and `&` and whether each side is
    /// plain, in one pass (a second `=` is a reserved byte of the value).
    @inline(__always)
    private static func split(_ rawQuery: UnsafeBufferPointer<UInt8>, from start: Int) -> RawParameter {
        var index = start
        var equals = -1
        var nameIsPlain = true
        var valueIsPlain = true
        while index < rawQuery.count {
            let byte = rawQuery[index]
            if byte == UInt8(ascii: "&") { break }
            if byte == UInt8(ascii: "=") && equals < 0 {
                equals = index
            } else if !PercentEncoding.isUnreserved(byte) {
                if equals < 0 { nameIsPlain = false } else { valueIsPlain = false }
            }
            index += 1
        }
        return RawParameter(
            start: start, equals: equals < 0 ? index : equals, end: index, nameIsPlain: nameIsPlain,
            valueIsPlain: valueIsPlain)
    }

    /// Decodes both sides of a parameter and drops the `jwt` parameter (after
    /// decoding it: a malformed `jwt` is refused like any other).
    private static func decodeParameter(
        _ parameter: RawParameter, in rawQuery: UnsafeBufferPointer<UInt8>, arena: inout ByteSink
    ) throws(JWTError) -> Entry? {
        let rawName = UnsafeBufferPointer(rebasing: rawQuery[parameter.start..<parameter.equals])
        let rawValue = UnsafeBufferPointer(rebasing: rawQuery[min(parameter.equals + 1, parameter.end)..<parameter.end])
        let decodedNameStart = arena.count
        if parameter.nameIsPlain {
            arena.append(rawName)
        } else {
            try PercentEncoding.formDecode(rawName, into: &arena)
        }
        let decodedName = arena.bytes(from: decodedNameStart)
        let valueStart = arena.count
        if parameter.valueIsPlain {
            arena.append(rawValue)
        } else {
            try PercentEncoding.formDecode(rawValue, into: &arena)
        }
        let valueEnd = arena.count
        if decodedName.count == 3, decodedName[0] == UInt8(ascii: "j"), decodedName[1] == UInt8(ascii: "w"),
            decodedName[2] == UInt8(ascii: "t")
        {
            return nil
        }
        if parameter.nameIsPlain {
            return Entry(
                nameStart: decodedNameStart, nameEnd: valueStart, valueStart: valueStart, valueEnd: valueEnd,
                valueIsPlain: parameter.valueIsPlain)
        }
        PercentEncoding.encode(decodedName, into: &arena)
        return Entry(
            nameStart: valueEnd, nameEnd: arena.count,
            valueStart: valueStart, valueEnd: valueEnd, valueIsPlain: parameter.valueIsPlain)
    }

    /// Encoded name first (byte order: `a` < `a1` < `a10` < `b1`), then decoded
    /// value (UTF-8 byte order is code point order).
    private static func precedes(_ lhs: Entry, _ rhs: Entry, in arena: UnsafeBufferPointer<UInt8>) -> Bool {
        let order = compare(arena, lhs.nameStart, lhs.nameEnd, rhs.nameStart, rhs.nameEnd)
        if order != 0 { return order < 0 }
        return compare(arena, lhs.valueStart, lhs.valueEnd, rhs.valueStart, rhs.valueEnd) < 0
    }

    /// Three-way lexicographic comparison of two arena ranges.
    private static func compare(
        _ arena: UnsafeBufferPointer<UInt8>, _ lhsStart: Int, _ lhsEnd: Int,
        _ rhsStart: Int, _ rhsEnd: Int
    ) -> Int {
        let lhsCount = Int(lhsEnd - lhsStart)
        let rhsCount = Int(rhsEnd - rhsStart)
        for offset in 0..<min(lhsCount, rhsCount) {
            let left = arena[Int(lhsStart) + offset]
            let right = arena[Int(rhsStart) + offset]
            if left != right { return left < right ? -1 : 1 }
        }
        return lhsCount - rhsCount
    }

    /// `name=v1,v2&name2=…`: one item per distinct name, its values in order.
    private static func emit(
        _ entries: UnsafeMutableBufferPointer<Entry>, arena: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink
    ) {
        for index in entries.indices {
            let entry = entries[index]
            if index > 0
                && compare(
                    arena, entry.nameStart, entry.nameEnd, entries[index - 1].nameStart, entries[index - 1].nameEnd)
                    == 0
            {
                sink.append(UInt8(ascii: ","))
            } else {
                if index > 0 { sink.append(UInt8(ascii: "&")) }
                sink.append(UnsafeBufferPointer(rebasing: arena[Int(entry.nameStart)..<Int(entry.nameEnd)]))
                sink.append(UInt8(ascii: "="))
            }
            let value = UnsafeBufferPointer(rebasing: arena[Int(entry.valueStart)..<Int(entry.valueEnd)])
            if entry.valueIsPlain {
                sink.append(value)
            } else {
                PercentEncoding.encode(value, into: &sink)
            }
        }
    }
}

extension CanonicalQuery {
    /// Writes the canonical query of a query that is already in canonical form,
    /// and returns true; returns false, having written nothing, for any other.
    ///
    /// Canonical form: every non-empty parameter's name and value are unreserved
    /// bytes and `%XX` escapes, in upper-case hex, of bytes that are not
    /// unreserved (so no `+` and no second `=`), each side's decoded bytes are
    /// UTF-8, and the names other than `jwt` strictly increase in byte order. Then
    /// decoding and re-encoding give back each name and value as sent, no name
    /// repeats (no values to join or sort by value), and sorting keeps the order:
    /// the canonical query is the parameters as sent, joined by `&`, less the empty
    /// ones and `jwt`, with `=` after a name that has none. Such a query decodes
    /// without error (`jwt` included), so declining leaves every error to
    /// `writeSorted`, which reports it as it always has.
    static func writeIfCanonical(_ rawQuery: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) -> Bool {
        let sinkStart = sink.count
        let count = rawQuery.count
        // Kept parameters that follow each other in the query (one `&` apart, each
        // with its `=`) are written as one run, when the next does not extend it.
        var runStart = 0
        var runEnd = 0
        var previousName = 0..<0
        var hasPrevious = false
        var start = 0
        while start < count {
            var index = start
            var equals = -1
            while true {
                while index < count && PercentEncoding.isUnreserved(rawQuery[index]) { index &+= 1 }
                guard index < count else { break }
                let byte = rawQuery[index]
                if byte == UInt8(ascii: "%") {
                    // A run of escapes: UTF-8 on its own, since the bytes around it are
                    // ASCII or the ends of the name or value.
                    let escapesStart = index
                    var nonASCII: UInt8 = 0
                    repeat {
                        guard index + 2 < count,
                            let decoded = upperHexByte(rawQuery[index &+ 1], rawQuery[index &+ 2]),
                            !PercentEncoding.isUnreserved(decoded)
                        else { return decline(&sink, sinkStart) }
                        nonASCII |= decoded
                        index &+= 3
                    } while index < count && rawQuery[index] == UInt8(ascii: "%")
                    if nonASCII & 0x80 != 0,
                        !isUTF8(escapes: UnsafeBufferPointer(rebasing: rawQuery[escapesStart..<index]))
                    {
                        return decline(&sink, sinkStart)
                    }
                } else if byte == UInt8(ascii: "=") && equals < 0 {
                    equals = index
                    index &+= 1
                } else if byte == UInt8(ascii: "&") {
                    break
                } else {
                    // `+`, a second `=`, any other reserved or non-ASCII byte.
                    return decline(&sink, sinkStart)
                }
            }
            let end = index
            if end > start {
                let name = start..<(equals < 0 ? end : equals)
                if !isJWT(rawQuery, name) {
                    if !hasPrevious {
                        (runStart, runEnd) = (start, end)
                    } else {
                        guard precedes(rawQuery, previousName, name) else { return decline(&sink, sinkStart) }
                        if runStart < runEnd && runEnd &+ 1 == start {
                            runEnd = end  // `rawQuery[runEnd]` was the `&` between them.
                        } else {
                            flush(rawQuery, &runStart, runEnd, into: &sink)
                            sink.append(UInt8(ascii: "&"))
                            (runStart, runEnd) = (start, end)
                        }
                    }
                    if equals < 0 {
                        flush(rawQuery, &runStart, runEnd, into: &sink)
                        sink.append(UInt8(ascii: "="))
                    }
                    previousName = name
                    hasPrevious = true
                }
            }
            start = end &+ 1
        }
        flush(rawQuery, &runStart, runEnd, into: &sink)
        return true
    }

    /// Writes the pending run `rawQuery[runStart..<runEnd]` and empties it.
    @inline(__always)
    private static func flush(
        _ rawQuery: UnsafeBufferPointer<UInt8>, _ runStart: inout Int, _ runEnd: Int, into sink: inout ByteSink
    ) {
        if runStart < runEnd { sink.append(UnsafeBufferPointer(rebasing: rawQuery[runStart..<runEnd])) }
        runStart = runEnd
    }

    /// Takes back what `writeIfCanonical` wrote and declines.
    private static func decline(_ sink: inout ByteSink, _ start: Int) -> Bool {
        sink.count = start
        return false
    }

    /// The byte of two upper-case hex digits; nil for anything else (`a`–`f` too:
    /// the encoder writes upper case, so a lower-case escape is not canonical).
    @inline(__always)
    private static func upperHexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = upperHexValue(high), let low = upperHexValue(low) else { return nil }
        return high << 4 | low
    }

    @inline(__always)
    private static func upperHexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    @inline(__always)
    private static func isJWT(_ rawQuery: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Bool {
        name.count == 3 && rawQuery[name.lowerBound] == UInt8(ascii: "j")
            && rawQuery[name.lowerBound + 1] == UInt8(ascii: "w") && rawQuery[name.lowerBound + 2] == UInt8(ascii: "t")
    }

    /// Whether `lhs` sorts strictly before `rhs` in byte order.
    @inline(__always)
    private static func precedes(_ bytes: UnsafeBufferPointer<UInt8>, _ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
        compare(bytes, lhs.lowerBound, lhs.upperBound, rhs.lowerBound, rhs.upperBound) < 0
    }

    /// Whether a run of canonical `%XX` escapes decodes to UTF-8, checked by the
    /// standard library as `PercentEncoding.formDecoded` checks a whole component.
    private static func isUTF8(escapes: UnsafeBufferPointer<UInt8>) -> Bool {
        let decoded = stride(from: 0, to: escapes.count, by: 3).lazy.map { offset in
            upperHexByte(escapes[offset + 1], escapes[offset + 2]) ?? 0xFF
        }
        return String(validating: decoded, as: UTF8.self) != nil
    }
}
