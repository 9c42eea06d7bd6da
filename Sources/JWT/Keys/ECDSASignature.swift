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
