/// The canonical query (docs/protocols.md §2) of a raw query, written as bytes.
///
/// Each parameter's name is form-decoded and re-encoded, its value form-decoded,
/// both into one scratch arena; the (encoded name, decoded value) pairs are then
/// sorted and equal names grouped where adjacent: a map of name → sorted values,
/// since equal encoded names are equal decoded names.
enum CanonicalQuery {
    /// One parameter: arena offsets of its encoded name and decoded value, and
    /// whether the value is plain (its encoding is itself: copied, not re-encoded).
    struct Entry {
        var nameStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int
        var valueIsPlain: Bool
    }

    static func write(_ rawQuery: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) throws(JWTError) {
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
