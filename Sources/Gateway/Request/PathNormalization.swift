import Policy
import Scopes

/// The path check of docs/protocols.md §5: "a URI that does not normalise to itself: 400".
///
/// Routes compare literal segments with the raw bytes received, and the
/// upstream may decode and normalise the path after the gateway has decided. So
/// a path an upstream could read differently from the gateway is refused:
/// `/static/../admin` would match a public `/static/{rest*}` route and reach
/// `/admin` behind it.
enum PathNormalization {
    /// Why `rawPath` does not normalise to itself, or nil when it does.
    static func problem(in rawPath: Substring) -> String? {
        // The usual path, read in place: no `%`, no backslash, no dot segment.
        if rawPath.utf8.withContiguousStorageIfAvailable(isPlainAndNormal) == true { return nil }
        if rawPath.utf8.contains(UInt8(ascii: "\\")) {
            return "the path contains a backslash, which some servers read as /"
        }
        // Segment by segment, as `split(separator:)` would cut them, without an array of them.
        let bytes = rawPath.utf8
        var start = bytes.startIndex
        while true {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
            if let problem = problem(inSegment: bytes[start..<end]) { return problem }
            guard end != bytes.endIndex else { return nil }
            start = bytes.index(after: end)
        }
    }

    private static func problem(inSegment raw: Substring.UTF8View.SubSequence) -> String? {
        guard raw.contains(UInt8(ascii: "%")) else {
            return isDotSegment(raw) ? dotSegment : nil
        }
        guard let decoded = decode(raw) else { return "the path has a % not followed by two hex digits" }
        if decoded.count != raw.count, let encoded = encodedUnreserved(raw) {
            return "the path percent-encodes \"\(encoded)\", which needs no encoding; send it as is"
        }
        // `..;x` is `..` to servlet containers; `..%2F` becomes two segments once decoded.
        for piece in decoded.split(omittingEmptySubsequences: false, whereSeparator: { $0 == 0x2F || $0 == 0x5C })
        where isDotSegment(piece) {
            return dotSegment
        }
        return nil
    }

    /// Whether `bytes` has neither a `%` nor a backslash, nor a dot segment: a path
    /// that is normal as it is. Any other path is read by the checks above.
    private static func isPlainAndNormal(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var segmentStart = 0
        for index in 0...bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                if isDotSegment(bytes[segmentStart..<index]) { return false }
                segmentStart = index + 1
            } else if bytes[index] == UInt8(ascii: "%") || bytes[index] == UInt8(ascii: "\\") {
                return false
            }
        }
        return true
    }

    private static let dotSegment = "the path has a dot segment (. or ..); send the path it resolves to"

    /// `.` or `..`, also with servlet path parameters (`..;x`).
    private static func isDotSegment(_ segment: some Collection<UInt8>) -> Bool {
        let beforeParameters = segment.prefix { $0 != UInt8(ascii: ";") }
        return (1...2).contains(beforeParameters.count) && beforeParameters.allSatisfy { $0 == UInt8(ascii: ".") }
    }

    /// The first unreserved character (RFC 3986 §2.3) written as `%XX`, if any.
    private static func encodedUnreserved(_ raw: Substring.UTF8View.SubSequence) -> Character? {
        var index = raw.startIndex
        while index != raw.endIndex {
            if raw[index] == UInt8(ascii: "%"),
                let byte = decode(raw[index...].prefix(3)).flatMap({ $0.count == 1 ? $0[0] : nil }),
                isUnreserved(byte)
            {
                return Character(Unicode.Scalar(byte))
            }
            index = raw.index(after: index)
        }
        return nil
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Percent-decodes bytes (no `+` rule in paths); nil when a `%` is malformed.
    private static func decode(_ raw: some Collection<UInt8>) -> [UInt8]? {
        PercentDecoding.decodedBytes(raw, plusAsSpace: false)
    }
}
