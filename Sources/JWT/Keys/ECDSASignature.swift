internal import COpenSSL

/// Conversion between JWS's raw ECDSA signature and OpenSSL's DER.
///
/// RFC 7518 §3.4: the JWS signature is R and S as big-endian integers, each
/// zero-padded to the curve's size, concatenated. OpenSSL reads and writes the
/// DER `ECDSA-Sig-Value` SEQUENCE. A signature of any other length, DER
/// included, is not a JWS ECDSA signature.
enum ECDSASignature {
    /// The raw R||S form of a DER signature, or nil if the DER is malformed or a
    /// component does not fit `curve`.
    static func raw(fromDER der: [UInt8], curve: EllipticCurve) -> [UInt8]? {
        let width = curve.coordinateSize
        return der.withUnsafeBufferPointer { buffer -> [UInt8]? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let signature = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else {
                ERR_clear_error()
                return nil
            }
            defer { ECDSA_SIG_free(signature) }
            guard let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature),
                let rBytes = BigNumber.bytes(of: r, width: width),
                let sBytes = BigNumber.bytes(of: s, width: width)
            else { return nil }
            return rBytes + sBytes
        }
    }

    /// The curve's order n, big-endian, as wide as a signature half.
    static func order(of curve: EllipticCurve) -> [UInt8] {
        switch curve {
        case .p256: p256Order
        case .p384: p384Order
        case .p521: p521Order
        }
    }

    private static let p256Order = readOrder(.p256)
    private static let p384Order = readOrder(.p384)
    private static let p521Order = readOrder(.p521)

    private static func readOrder(_ curve: EllipticCurve) -> [UInt8] {
        guard let group = EC_GROUP_new_by_curve_name(OBJ_sn2nid(curve.openSSLName)) else {
            preconditionFailure("OpenSSL lacks the curve \(curve.openSSLName)")
        }
        defer { EC_GROUP_free(group) }
        guard let order = EC_GROUP_get0_order(group),
            let bytes = BigNumber.bytes(of: order, width: curve.coordinateSize)
        else { preconditionFailure("OpenSSL gave no order for \(curve.openSSLName)") }
        return bytes
    }

    /// Whether S of a raw R||S signature is at most n/2: of the two signatures
    /// (R, S) and (R, n−S) that verify alike, the one that counts as canonical.
    static func hasLowS(_ raw: [UInt8], curve: EllipticCurve) -> Bool {
        let width = curve.coordinateSize
        guard raw.count == 2 * width else { return false }
        return !halved(order(of: curve)).lexicographicallyPrecedes(raw[width...])
    }

    /// The same signature with S replaced by n−S when S is over n/2.
    static func withLowS(_ raw: [UInt8], curve: EllipticCurve) -> [UInt8] {
        hasLowS(raw, curve: curve) ? raw : twin(raw, curve: curve)
    }

    /// The other signature that verifies alike: (R, n−S).
    static func twin(_ raw: [UInt8], curve: EllipticCurve) -> [UInt8] {
        let width = curve.coordinateSize
        return Array(raw[..<width]) + subtract(order(of: curve), Array(raw[width...]))
    }

    /// `value` >> 1, big-endian, same width.
    private static func halved(_ value: [UInt8]) -> [UInt8] {
        var result = value
        var carry: UInt8 = 0
        for index in result.indices {
            let byte = result[index]
            result[index] = (byte >> 1) | (carry << 7)
            carry = byte & 1
        }
        return result
    }

    /// `minuend` − `subtrahend`, big-endian, same width; the minuend is the larger.
    private static func subtract(_ minuend: [UInt8], _ subtrahend: [UInt8]) -> [UInt8] {
        var result = minuend
        var borrow = 0
        for index in result.indices.reversed() {
            let difference = Int(minuend[index]) - Int(subtrahend[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            result[index] = UInt8((difference + 256) % 256)
        }
        return result
    }

    /// The DER form of a raw R||S signature, or nil if it is not exactly twice
    /// the curve's size.
    static func der(fromRaw raw: [UInt8], curve: EllipticCurve) -> [UInt8]? {
        let width = curve.coordinateSize
        guard raw.count == 2 * width,
            let signature = ECDSA_SIG_new()
        else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw[..<width].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(width), nil) }
        let s = raw[width...].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(width), nil) }
        // ECDSA_SIG_set0 takes ownership of both numbers only when it succeeds.
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }
}
