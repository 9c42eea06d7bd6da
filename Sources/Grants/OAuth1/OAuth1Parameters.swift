/// One decoded `name=value` parameter of a signed request.
public struct OAuth1Parameter: Sendable, Equatable {
    public let name: String
    public let value: String
}

/// The protocol parameters of a signed request (the `Authorization` header's, less
/// `realm`, and the `oauth_*` and `xoauth_*` ones of the query and form body), each
/// name once, in arrival order. A request has a handful: a scan finds one sooner than
/// a hash of the name would.
public struct OAuth1ProtocolParameters: Sendable {
    /// Every parameter, in arrival order.
    public private(set) var all: [OAuth1Parameter] = []

    init() {
        all.reserveCapacity(8)
    }

    /// The value of the parameter `name`, decoded; nil when it was not sent.
    public subscript(name: String) -> String? {
        for parameter in all where parameter.name == name { return parameter.value }
        return nil
    }

    /// Adds `parameter`, unless one of the same name is here: then false, and nothing changes.
    mutating func insert(_ parameter: OAuth1Parameter) -> Bool {
        guard self[parameter.name] == nil else { return false }
        all.append(parameter)
        return true
    }
}

/// The bytes of OAuth 1.0a (RFC 5849): the `Authorization` header's pairs, form pairs
/// and percent escapes, read on bytes (a combining mark after a delimiter must not hide
/// it, as it would from a scan by Characters) and decoded straight into the strings kept.
enum OAuth1Bytes {
    /// Calls `body` with each `name="value"` pair of an `Authorization: OAuth` header
    /// (RFC 5849 §3.5.1), both decoded, in order. Spaces, tabs and commas separate the pairs;
    /// a name ends at `=` (spaces and tabs before it dropped); its value is what follows
    /// between two double quotes.
    /// - Throws: `parameter_rejected` for anything else.
    static func forEachHeaderPair(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (String, String) throws(OAuth1Problem) -> Void
    ) throws(OAuth1Problem) {
        var index = 0
        while true {
            while index < bytes.count, isPairSeparator(bytes[index]) { index += 1 }
            guard index < bytes.count else { return }
            guard let equals = firstIndex(of: UInt8(ascii: "="), in: bytes, from: index) else {
                throw OAuth1Problem(.parameterRejected, "the OAuth Authorization header is not name=\"value\" pairs")
            }
            var nameEnd = equals
            while nameEnd > index, bytes[nameEnd - 1] == UInt8(ascii: " ") || bytes[nameEnd - 1] == UInt8(ascii: "\t") {
                nameEnd -= 1
            }
            let name = bytes[index..<nameEnd]
            let open = equals + 1
            guard open < bytes.count, bytes[open] == UInt8(ascii: "\""),
                let close = firstIndex(of: UInt8(ascii: "\""), in: bytes, from: open + 1)
            else {
                let shown = String(decoding: name, as: UTF8.self).prefix(40)
                throw OAuth1Problem(
                    .parameterRejected, "the value of \(shown) in the Authorization header is not quoted")
            }
            try body(decoded(name, plusIsSpace: false), decoded(bytes[(open + 1)..<close], plusIsSpace: false))
            index = close + 1
        }
    }

    /// Calls `body` with each pair of an `application/x-www-form-urlencoded` text, both
    /// decoded (`+` is a space), in order. Split on the bytes `&` and `=`, whatever
    /// follows them; empty pairs are skipped, a pair without `=` has an empty value.
    static func forEachFormPair(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (String, String) throws(OAuth1Problem) -> Void
    ) throws(OAuth1Problem) {
        var start = 0
        while start < bytes.count {
            let end = firstIndex(of: UInt8(ascii: "&"), in: bytes, from: start) ?? bytes.count
            if end > start {
                let pair = bytes[start..<end]
                if let equals = firstIndex(of: UInt8(ascii: "="), in: bytes, from: start), equals < end {
                    try body(
                        decoded(pair[..<equals], plusIsSpace: true), decoded(pair[(equals + 1)...], plusIsSpace: true))
                } else {
                    try body(decoded(pair, plusIsSpace: true), "")
                }
            }
            start = end + 1
        }
    }

    /// `bytes` with `%XX` (two hex digits) decoded, and `+` as a space when `plusIsSpace`;
    /// anything else, a lone `%` included, kept as it is. Invalid UTF-8 comes out repaired.
    static func decoded(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusIsSpace: Bool) -> String {
        let input = UnsafeBufferPointer(rebasing: bytes)
        let escaped = input.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        guard escaped else { return String(decoding: input, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: input.count) { output in
            var (index, written) = (0, 0)
            while index < input.count {
                let byte = input[index]
                if byte == UInt8(ascii: "%"), index + 2 < input.count, let high = hexValue(input[index + 1]),
                    let low = hexValue(input[index + 2])
                {
                    output[written] = high << 4 | low
                    index += 3
                } else {
                    output[written] = plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte
                    index += 1
                }
                written += 1
            }
            return written
        }
    }

    /// RFC 5849 §3.6: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`, upper-case hex, appended to `encoded`.
    /// Runs of unreserved bytes are copied whole.
    static func encode(_ input: UnsafeBufferPointer<UInt8>, into encoded: inout [UInt8]) {
        var runStart = 0
        for index in 0..<input.count where !isUnreserved(input[index]) {
            if runStart < index { encoded.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index])) }
            appendEscape(input[index], to: &encoded)
            runStart = index + 1
        }
        if runStart < input.count { encoded.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart...])) }
    }

    /// `encode`, of a string's bytes.
    static func encode(_ text: some StringProtocol, into encoded: inout [UInt8]) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { encode($0, into: &encoded) }
        if copied == nil { Array(text.utf8).withUnsafeBufferPointer { encode($0, into: &encoded) } }
    }

    /// `encode`, byte by byte, of bytes made on the way (a lower-cased host).
    static func encode(each bytes: some Sequence<UInt8>, into encoded: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) { encoded.append(byte) } else { appendEscape(byte, to: &encoded) }
        }
    }

    private static func appendEscape(_ byte: UInt8, to encoded: inout [UInt8]) {
        encoded.append(UInt8(ascii: "%"))
        encoded.append(upperHexDigit(byte >> 4))
        encoded.append(upperHexDigit(byte & 15))
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Runs `body` on the bytes of `text`, in place when they are contiguous (a native string's are).
    static func withBytes<Result>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    private static func upperHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    private static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Spaces, tabs and commas between the header's `name="value"` pairs.
    private static func isPairSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
