/// RFC 3986 §2.1 percent-decoding of one path segment or query component: the
/// one decoder the matcher, the gateway's query handling and its path check share.
public enum PercentDecoding {
    /// The decoded text, or `nil` when a `%` is not followed by two hex digits or
    /// the bytes are not UTF-8. `plusAsSpace` applies the form-encoding rule that
    /// query strings follow (a path's `+` is a plus).
    public static func decode<S: StringProtocol>(_ text: S, plusAsSpace: Bool) -> String? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode(bytes: $0, plusAsSpace: plusAsSpace) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBufferPointer { decode(bytes: $0, plusAsSpace: plusAsSpace) }
    }

    /// The same, for UTF-8 bytes.
    static func decode(bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool) -> String? {
        // Most values need no decoding: return them without building a buffer.
        // The bytes come from a `String`, so they are valid UTF-8 already.
        if !needsDecoding(bytes, plusAsSpace: plusAsSpace) {
            return String(decoding: bytes, as: UTF8.self)
        }
        return decodedBytes(bytes, plusAsSpace: plusAsSpace).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The decoded bytes, not checked to be UTF-8 (a path may carry any byte);
    /// `nil` when a `%` is not followed by two hex digits.
    public static func decodedBytes(_ raw: some Collection<UInt8>, plusAsSpace: Bool) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                decoded.append(high << 4 | low)
            case UInt8(ascii: "+") where plusAsSpace:
                decoded.append(UInt8(ascii: " "))
            default:
                decoded.append(byte)
            }
        }
        return decoded
    }

    static func needsDecoding(_ bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool) -> Bool {
        bytes.contains { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }
    }

    /// The value of one hex digit, either case.
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
