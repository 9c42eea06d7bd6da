internal import COpenSSL

/// Key components gathered for `EVP_PKEY_fromdata`.
///
/// `OSSL_PARAM_BLD` keeps the pointers it is given (names, strings, numbers) and
/// only copies them in `OSSL_PARAM_BLD_to_param`, so this class owns stable
/// copies of all of them until the parameter array is built and used.
final class KeyParameters {
    private let builder: OpaquePointer
    private var strings: [UnsafeMutableBufferPointer<CChar>] = []
    private var octets: [UnsafeMutableBufferPointer<UInt8>] = []
    private var numbers: [BigNumber] = []

    init() throws(JWTError) {
        guard let builder = OSSL_PARAM_BLD_new() else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not allocate a parameter builder")
        }
        self.builder = builder
    }

    deinit {
        OSSL_PARAM_BLD_free(builder)
        for string in strings { string.deallocate() }
        for octet in octets { octet.deallocate() }
    }

    /// Adds an unsigned integer given big-endian (RSA n, e, d, …; an EC private scalar).
    func add(_ name: String, integer bytes: [UInt8]) throws(JWTError) {
        let number = try BigNumber(bytes: bytes)
        numbers.append(number)
        try check(OSSL_PARAM_BLD_push_BN(builder, keep(name), number.pointer), name)
    }

    /// Adds a UTF-8 string (an EC group name).
    func add(_ name: String, string: String) throws(JWTError) {
        let value = keep(string)
        try check(OSSL_PARAM_BLD_push_utf8_string(builder, keep(name), value, 0), name)
    }

    /// Adds an octet string (an encoded EC point).
    func add(_ name: String, octets bytes: [UInt8]) throws(JWTError) {
        let value = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = value.initialize(from: bytes)
        octets.append(value)
        try check(OSSL_PARAM_BLD_push_octet_string(builder, keep(name), value.baseAddress, bytes.count), name)
    }

    /// A key of OpenSSL type `type` made from these parameters. The caller owns the result.
    func makeKey(type: String, selection: Int32) throws(JWTError) -> OpaquePointer {
        guard let parameters = OSSL_PARAM_BLD_to_param(builder) else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not build key parameters")
        }
        defer { OSSL_PARAM_free(parameters) }
        return try OpenSSLScope.withKeyContext(named: type) { (context) throws(JWTError) -> OpaquePointer in
            var pkey: OpaquePointer?
            guard EVP_PKEY_fromdata_init(context) == 1,
                EVP_PKEY_fromdata(context, &pkey, selection, parameters) == 1,
                let pkey
            else {
                throw OpenSSLScope.failure(.invalidKey, "OpenSSL refused the \(type) key components")
            }
            return pkey
        }
    }

    private func keep(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(text.utf8CString)
        let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: utf8.count)
        _ = copy.initialize(from: utf8)
        strings.append(copy)
        return copy.baseAddress!
    }

    private func check(_ result: Int32, _ name: String) throws(JWTError) {
        guard result == 1 else {
            throw OpenSSLScope.failure(.cryptoFailure, "OpenSSL could not take the key component \"\(name)\"")
        }
    }
}
