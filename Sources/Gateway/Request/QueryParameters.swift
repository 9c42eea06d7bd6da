import Policy
import Scopes

/// Byte-level work on a raw query string: finding and removing the Connect
/// `jwt` parameter, and checking percent-encoding. Everything else in the
/// query is forwarded byte for byte.
enum QueryParameters {
    /// The decoded values of every parameter whose decoded name is exactly `jwt`
    /// (docs/protocols.md §1: `JWT=` is an ordinary parameter).
    static func jwtValues(in rawQuery: Substring?) throws(GatewayError) -> [String] {
        guard let rawQuery, !rawQuery.isEmpty else { return [] }
        var values: [String] = []
        for parameter in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = parameter.firstIndex(of: UInt8(ascii: "="))
            let name = parameter[..<(equals ?? parameter.endIndex)]
            guard isJWTName(name) else { continue }
            let value = equals.map { parameter[parameter.index(after: $0)...] } ?? parameter[parameter.endIndex...]
            guard let decoded = decode(value) else {
                throw GatewayError(.badQueryEncoding, "the jwt query parameter is not valid percent-encoded UTF-8")
            }
            values.append(decoded)
        }
        return values
    }

    /// `rawQuery` without its `jwt` parameters; the others keep their bytes and order.
    static func removingJWT(from rawQuery: Substring) -> Substring {
        let utf8 = rawQuery.utf8
        guard utf8.contains(UInt8(ascii: "j")) || utf8.contains(UInt8(ascii: "%")) else { return rawQuery }
        var kept: [Substring] = []
        var removed = false
        // Split at `&` bytes, as `jwtValues` does: split as characters, a `&` after a
        // prepended mark (U+0600) would not separate, and a `jwt` would be forwarded.
        for parameter in utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let name = parameter.prefix { $0 != UInt8(ascii: "=") }
            if isJWTName(name) { removed = true } else { kept.append(Substring(parameter)) }
        }
        return removed ? Substring(kept.joined(separator: "&")) : rawQuery
    }

    /// Whether every `%` in `text` is followed by two hex digits.
    static func isWellFormed(_ text: Substring) -> Bool {
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { continue }
            guard let high = iterator.next(), PercentDecoding.hexValue(high) != nil, let low = iterator.next(),
                PercentDecoding.hexValue(low) != nil
            else { return false }
        }
        return true
    }

    /// Whether a raw parameter name decodes to exactly `jwt`.
    private static func isJWTName(_ name: some Collection<UInt8>) -> Bool {
        guard name.count >= 3, name.count <= 9 else { return false }
        return decode(name) == "jwt"
    }

    /// Form-decodes (`+` is a space, `%XX` a byte) and validates UTF-8; nil when malformed.
    static func decode(_ raw: some Collection<UInt8>) -> String? {
        PercentDecoding.decodedBytes(raw, plusAsSpace: true).flatMap { String(validating: $0, as: UTF8.self) }
    }
}
