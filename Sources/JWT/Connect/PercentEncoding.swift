/// Form decoding and RFC 3986 encoding of query components, as the qsh needs
/// them (docs/protocols.md §2): `+` decodes to a space, `%XX` to a byte; encoding keeps
/// only the unreserved characters and writes upper-case hex.
enum PercentEncoding {
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The unreserved characters (`A–Z a–z 0–9 - . _ ~`) as two 64-bit masks, bytes
    /// 0–63 and 64–127: one shift and one test per byte, no branch on the byte's value.
    private static let unreservedLow: UInt64 = 0x03FF_6000_0000_0000
    private static let unreservedHigh: UInt64 = 0x47FF_FFFE_87FF_FFFE

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        let mask = byte < 64 ? unreservedLow : unreservedHigh
        return byte < 128 && (mask >> UInt64(byte & 63)) & 1 == 1
    }

    /// Whether every byte is unreserved: then form decoding and RFC 3986 encoding
    /// both leave the bytes as they are (no `+`, no `%`), and a copy is the whole work.
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where !isUnreserved(byte) { return false }
        return true
    }
}

/// Bytes written into memory the caller sized beforehand. Each write checks the
/// bound (one compare) instead of growing an array: the canonical request is
/// built on every verification, and its size is known up front.
struct ByteSink {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "canonical request buffer overflow")
        base[count] = byte
        count &+= 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count <= capacity - count, "canonical request buffer overflow")
        if let source = bytes.baseAddress { (base + count).update(from: source, count: bytes.count) }
        count += bytes.count
    }

    /// Appends the bytes of `text` (in one copy where they are contiguous) and
    /// returns where they are now.
    mutating func copy<Text: Collection<UInt8>>(_ text: Text) -> UnsafeBufferPointer<UInt8> {
        let start = count
        if text.withContiguousStorageIfAvailable({ append($0) }) == nil {
            for byte in text { append(byte) }
        }
        return bytes(from: start)
    }

    /// The bytes written from `start` on.
    func bytes(from start: Int = 0) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + start, count: count - start)
    }
}

extension PercentEncoding {
    /// Form-decodes `component` into `sink`.
    /// - Throws: `invalidQueryEncoding` for a `%` not followed by two hex digits
    ///   (as it is met), or a component that decodes to bytes that are not UTF-8
    ///   (a reference client could not have signed them).
    static func formDecode(_ component: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) throws(JWTError) {
        switch formDecoded(component, into: &sink) {
        case nil: return
        case .badEscape:
            throw JWTError(.invalidQueryEncoding, "a '%' in the query is not followed by two hex digits")
        case .notUTF8:
            throw JWTError(.invalidQueryEncoding, "a query parameter decodes to bytes that are not UTF-8")
        }
    }

    /// Why a component does not form-decode.
    enum DecodingFailure {
        /// A `%` not followed by two hex digits.
        case badEscape
        /// The decoded bytes are not UTF-8.
        case notUTF8
    }

    /// Form-decodes `component` into `sink` (`+` is a space, `%XX` a byte): the one
    /// decoder of the qsh's query and of form bodies (`URLEncodedForm`). Returns why
    /// it failed, the first `%` problem as it is met, or nil.
    static func formDecoded(_ component: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) -> DecodingFailure? {
        let start = sink.count
        var nonASCII: UInt8 = 0
        var index = 0
        while index < component.count {
            var byte = component[index]
            if byte == UInt8(ascii: "+") {
                byte = UInt8(ascii: " ")
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < component.count, let high = hexValue(component[index + 1]),
                    let low = hexValue(component[index + 2])
                else { return .badEscape }
                byte = high << 4 | low
                index += 2
            }
            nonASCII |= byte
            sink.append(byte)
            index += 1
        }
        // ASCII is UTF-8; only escapes of bytes ≥ 0x80 need the full check.
        if nonASCII & 0x80 != 0, String(validating: sink.bytes(from: start), as: UTF8.self) == nil {
            return .notUTF8
        }
        return nil
    }

    /// Appends the RFC 3986 encoding of `bytes` to `sink`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout ByteSink) {
        for byte in bytes {
            if isUnreserved(byte) {
                sink.append(byte)
            } else {
                sink.append(UInt8(ascii: "%"))
                sink.append(upperHexDigit(byte >> 4))
                sink.append(upperHexDigit(byte & 0x0F))
            }
        }
    }

    @inline(__always)
    static func upperHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &- 10 &+ UInt8(ascii: "A")
    }
}
