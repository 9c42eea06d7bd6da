internal import COpenSSL

extension AsymmetricKey {
    /// A key from the members of an RSA, EC or OKP JWK.
    convenience init(jwk members: JWKMembers, kty: String) throws(JWTError) {
        let (pkey, isPrivate): (OpaquePointer, Bool)
        switch kty {
        case "RSA": (pkey, isPrivate) = try Self.rsa(members)
        case "EC": (pkey, isPrivate) = try Self.ec(members)
        default: (pkey, isPrivate) = try Self.okp(members)
        }
        self.init(taking: pkey, hasPrivateKey: isPrivate)
    }

    /// RFC 7518 §6.3. The CRT members are all present or all absent (§6.3.2);
    /// multi-prime keys ("oth") are not supported.
    private static func rsa(_ members: JWKMembers) throws(JWTError) -> (OpaquePointer, Bool) {
        guard members.object["oth"] == nil else {
            throw JWTError(.invalidKey, "multi-prime RSA JWKs (\"oth\") are not supported")
        }
        let parameters = try KeyParameters()
        try parameters.add("n", integer: members.requiredBytes("n", for: "RSA"))
        try parameters.add("e", integer: members.requiredBytes("e", for: "RSA"))
        let crtNames = [
            "p": "rsa-factor1", "q": "rsa-factor2", "dp": "rsa-exponent1", "dq": "rsa-exponent2",
            "qi": "rsa-coefficient1",
        ]
        var crt: [(String, [UInt8])] = []
        for name in crtNames.keys.sorted() {
            if let bytes = try members.bytes(name) { crt.append((name, bytes)) }
        }
        guard let d = try members.bytes("d") else {
            guard crt.isEmpty else { throw JWTError(.invalidKey, "the RSA JWK has CRT members but no \"d\"") }
            return (try parameters.makeKey(type: "RSA", selection: linkgate_selection_public_key()), false)
        }
        try parameters.add("d", integer: d)
        guard crt.isEmpty || crt.count == crtNames.count else {
            throw JWTError(.invalidKey, "an RSA private JWK must give all of p, q, dp, dq and qi, or none of them")
        }
        for (name, bytes) in crt {
            try parameters.add(crtNames[name]!, integer: bytes)
        }
        return (try parameters.makeKey(type: "RSA", selection: linkgate_selection_keypair()), true)
    }

    /// RFC 7518 §6.2. The point must lie on the curve, and a private scalar must
    /// belong to it, so a crafted JWK cannot smuggle in an invalid-curve point.
    private static func ec(_ members: JWKMembers) throws(JWTError) -> (OpaquePointer, Bool) {
        let name = try members.requiredString("crv", for: "EC")
        guard let curve = EllipticCurve(jwkName: name) else {
            throw JWTError(.invalidKey, "EC curve \"\(name)\" is not supported; expected P-256, P-384 or P-521")
        }
        let size = curve.coordinateSize
        let x = try members.fixedBytes("x", count: size, for: "EC")
        let y = try members.fixedBytes("y", count: size, for: "EC")
        let parameters = try KeyParameters()
        try parameters.add("group", string: curve.openSSLName)
        try parameters.add("pub", octets: [0x04] + x + y)
        let isPrivate = members.object["d"] != nil
        if isPrivate {
            try parameters.add("priv", integer: members.fixedBytes("d", count: size, for: "EC"))
        }
        let selection = isPrivate ? linkgate_selection_keypair() : linkgate_selection_public_key()
        let pkey = try parameters.makeKey(type: "EC", selection: selection)
        do {
            try OpenSSLScope.withKeyContext(for: pkey) { (context) throws(JWTError) in
                guard EVP_PKEY_public_check(context) == 1 else {
                    throw OpenSSLScope.failure(
                        .invalidKey, "the EC JWK's point is not a valid \(curve.jwkName) public key")
                }
                guard !isPrivate || EVP_PKEY_pairwise_check(context) == 1 else {
                    throw OpenSSLScope.failure(.invalidKey, "the EC JWK's \"d\" does not belong to its x and y")
                }
            }
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        return (pkey, isPrivate)
    }

    /// RFC 8037 §2: only Ed25519 is a signature curve. With "d", the public key it
    /// implies must be "x".
    private static func okp(_ members: JWKMembers) throws(JWTError) -> (OpaquePointer, Bool) {
        let name = try members.requiredString("crv", for: "OKP")
        guard name == "Ed25519" else {
            throw JWTError(.invalidKey, "OKP curve \"\(name)\" is not supported; only Ed25519 signs")
        }
        let x = try members.fixedBytes("x", count: 32, for: "OKP")
        guard members.object["d"] != nil else {
            guard
                let pkey = x.withUnsafeBufferPointer({
                    EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, $0.baseAddress, 32)
                })
            else {
                throw OpenSSLScope.failure(.invalidKey, "OpenSSL refused the Ed25519 public key")
            }
            return (pkey, false)
        }
        let d = try members.fixedBytes("d", count: 32, for: "OKP")
        guard
            let pkey = d.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key_ex(nil, "ED25519", nil, $0.baseAddress, 32)
            })
        else {
            throw OpenSSLScope.failure(.invalidKey, "OpenSSL refused the Ed25519 private key")
        }
        guard rawPublicKey(of: pkey) == x else {
            EVP_PKEY_free(pkey)
            throw JWTError(.invalidKey, "the OKP JWK's \"d\" does not belong to its \"x\"")
        }
        return (pkey, true)
    }

    private static func rawPublicKey(of pkey: OpaquePointer) -> [UInt8]? {
        var key = [UInt8](repeating: 0, count: 32)
        var length = key.count
        guard EVP_PKEY_get_raw_public_key(pkey, &key, &length) == 1, length == 32 else {
            ERR_clear_error()
            return nil
        }
        return key
    }
}

extension AsymmetricKey {
    /// The key-type members of the public JWK (kty and n/e, crv/x/y or crv/x).
    func publicJWKMembers() -> JSONObject? {
        switch kind {
        case .rsa:
            guard let n = integer("n"), let e = integer("e") else { return nil }
            return JSONObject([
                ("kty", "RSA"), ("n", .string(Base64URL.encode(n))), ("e", .string(Base64URL.encode(e))),
            ])
        case .ec(let curve):
            guard let point = encodedPoint(), point.count == 1 + 2 * curve.coordinateSize, point.first == 0x04 else {
                return nil
            }
            let x = point[1...curve.coordinateSize]
            let y = point[(1 + curve.coordinateSize)...]
            return JSONObject([
                ("kty", "EC"), ("crv", .string(curve.jwkName)),
                ("x", .string(Base64URL.encode(x))), ("y", .string(Base64URL.encode(y))),
            ])
        case .ed25519:
            guard let x = Self.rawPublicKey(of: pkey) else { return nil }
            return JSONObject([("kty", "OKP"), ("crv", "Ed25519"), ("x", .string(Base64URL.encode(x)))])
        case .unsupported:
            return nil
        }
    }

    private func integer(_ name: String) -> [UInt8]? {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &number) == 1, let number else {
            ERR_clear_error()
            return nil
        }
        defer { BN_free(number) }
        return BigNumber.bytes(of: number)
    }

    /// The uncompressed public point, 0x04 || x || y (SEC 1 §2.3.3).
    private func encodedPoint() -> [UInt8]? {
        var point = [UInt8](repeating: 0, count: 1 + 2 * 66)
        var length = 0
        guard EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", &point, point.count, &length) == 1 else {
            ERR_clear_error()
            return nil
        }
        return Array(point.prefix(length))
    }
}
