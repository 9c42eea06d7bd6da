/// Form decoding and RFC 3986 encoding of query components, as the qsh needs
/// them (PROTOCOLS §2): `+` decodes to a space, `%XX` to a byte; encoding keeps
/// only the unreserved characters and writes upper-case hex.
enum PercentEncoding {
    /// Decodes a form-encoded component into UTF-8 bytes.
    /// - Throws: `invalidQueryEncoding` for a `%` not followed by two hex digits,
    ///   or bytes that are not UTF-8 (a reference client could not have signed them).
    static func formDecode(_ component: Substring.UTF8View) throws -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(component.count)
        var index = component.startIndex
        while index < component.endIndex {
            let byte = component[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                output.append(try hexByte(component, after: index))
                index = component.index(index, offsetBy: 2)
            } else {
                output.append(byte)
            }
            index = component.index(after: index)
        }
        guard String(validating: output, as: UTF8.self) != nil else {
            throw JWTError(.invalidQueryEncoding, "a query parameter decodes to bytes that are not UTF-8")
        }
        return output
    }

    private static func hexByte(_ component: Substring.UTF8View, after percent: Substring.Index) throws -> UInt8 {
        let first = component.index(after: percent)
        guard first < component.endIndex, component.index(after: first) < component.endIndex,
              let high = hexValue(component[first]),
              let low = hexValue(component[component.index(after: first)])
        else {
            throw JWTError(.invalidQueryEncoding, "a '%' in the query is not followed by two hex digits")
        }
        return high << 4 | low
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Appends the RFC 3986 encoding of `bytes` (unreserved kept, the rest `%XX`).
    static func encode(_ bytes: [UInt8], into output: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(upperHex[Int(byte >> 4)])
                output.append(upperHex[Int(byte & 0x0F)])
            }
        }
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
