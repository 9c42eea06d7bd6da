internal import COpenSSL

/// Conversion between JWS's raw ECDSA signature and OpenSSL's DER.
///
/// RFC 7518 §3.4: the JWS signature is R and S as big-endian integers, each
/// zero-padded to the curve's size, concatenated. OpenSSL reads and writes the
/// DER `ECDSA-Sig-Value` SEQUENCE. A signature of any other length, DER
/// included, is not a JWS ECDSA signature.
enum ECDSASignature {
    /// Writes the JWS form of OpenSSL's DER signature into `output` (exactly twice
    /// the curve's size): R and S zero-padded, and S replaced by n−S when over n/2,
    /// so every signature made here is the canonical one (docs/jwt.md). Reads the DER
    /// in place, without OpenSSL's `ECDSA_SIG` and its two `BIGNUM`s. Returns false,
    /// `output` untouched or partly written, when the DER is not one SEQUENCE of two
    /// non-negative INTEGERs that fit the curve.
    static func jwsForm(
        ofDER der: UnsafeBufferPointer<UInt8>, curve: EllipticCurve, into output: UnsafeMutableBufferPointer<UInt8>
    ) -> Bool {
        let width = curve.coordinateSize
        guard output.count == 2 * width, der.count >= 2, der[0] == 0x30 else { return false }
        // X.690 §8.1.3: a short length, or (P-521's up to 139 bytes) one length byte after 0x81.
        var cursor = 2
        var sequenceLength = Int(der[1])
        if der[1] == 0x81 {
            guard der.count >= 3, der[2] >= 0x80 else { return false }
            sequenceLength = Int(der[2])
            cursor = 3
        } else if der[1] >= 0x80 {
            return false
        }
        guard sequenceLength == der.count - cursor,
            copyInteger(der, at: &cursor, into: UnsafeMutableBufferPointer(rebasing: output[..<width])),
            copyInteger(der, at: &cursor, into: UnsafeMutableBufferPointer(rebasing: output[width...])),
            cursor == der.count
        else { return false }
        makeLowS(UnsafeMutableBufferPointer(rebasing: output[width...]), curve: curve)
        return true
    }

    /// Copies the DER INTEGER at `cursor` into `slot`, big-endian and left-padded
    /// with zeros, and moves `cursor` past it; false for a negative, empty or too
    /// wide one.
    private static func copyInteger(
        _ der: UnsafeBufferPointer<UInt8>, at cursor: inout Int, into slot: UnsafeMutableBufferPointer<UInt8>
    ) -> Bool {
        guard cursor + 2 <= der.count, der[cursor] == 0x02 else { return false }
        let length = Int(der[cursor + 1])
        var start = cursor + 2
        let end = start + length
        guard length > 0, length < 0x80, end <= der.count, der[start] & 0x80 == 0 else { return false }
        while start < end, der[start] == 0 { start += 1 }
        let count = end - start
        guard count <= slot.count else { return false }
        let padding = slot.count - count
        for index in 0..<padding { slot[index] = 0 }
        for index in 0..<count { slot[padding + index] = der[start + index] }
        cursor = end
        return true
    }

    /// Replaces S (big-endian, the curve's width) with n−S when S is over n/2.
    private static func makeLowS(_ s: UnsafeMutableBufferPointer<UInt8>, curve: EllipticCurve) {
        let half = halfOrder(of: curve)
        guard half.lexicographicallyPrecedes(s) else { return }
        let order = order(of: curve)
        var borrow = 0
        for index in s.indices.reversed() {
            let difference = Int(order[index]) - Int(s[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            s[index] = UInt8(truncatingIfNeeded: difference + 256)
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

    /// n/2 rounded down: S is canonical when it is not above this.
    static func halfOrder(of curve: EllipticCurve) -> [UInt8] {
        switch curve {
        case .p256: p256HalfOrder
        case .p384: p384HalfOrder
        case .p521: p521HalfOrder
        }
    }

    private static let p256HalfOrder = halved(p256Order)
    private static let p384HalfOrder = halved(p384Order)
    private static let p521HalfOrder = halved(p521Order)

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
        return !halfOrder(of: curve).lexicographicallyPrecedes(raw[width...])
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
