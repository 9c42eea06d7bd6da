internal import COpenSSL

/// SHA-2 digests through OpenSSL, with the algorithm fetched once per process
/// (OpenSSL 3's implicit fetch on every call costs more than hashing a qsh).
public enum Digest: Sendable {
    case sha256, sha384, sha512

    /// The digest of `bytes`.
    public func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// The digest of the bytes in `buffer`.
    public func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &length, fetched.pointer, nil)
        }
        precondition(ok == 1 && Int(length) == size, "OpenSSL failed to compute \(name)")
        return output
    }

    /// Output size in bytes.
    public var size: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// OpenSSL's name for the digest.
    var name: String {
        switch self {
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }

    /// The process-wide fetched `EVP_MD`.
    var fetched: FetchedDigest {
        switch self {
        case .sha256: FetchedDigest.sha256
        case .sha384: FetchedDigest.sha384
        case .sha512: FetchedDigest.sha512
        }
    }
}

/// An `EVP_MD` fetched once and kept for the life of the process.
final class FetchedDigest: @unchecked Sendable {
    // Immutable after fetch; OpenSSL documents fetched algorithms as thread-safe.
    let pointer: OpaquePointer

    private init(_ name: String) {
        guard let md = EVP_MD_fetch(nil, name, nil) else {
            preconditionFailure("OpenSSL has no \(name) digest")
        }
        pointer = md
    }

    static let sha256 = FetchedDigest("SHA256")
    static let sha384 = FetchedDigest("SHA384")
    static let sha512 = FetchedDigest("SHA512")
    /// OAuth 1.0a's RSA-SHA1 only (`RSASHA1Key`); never a JWS digest.
    static let sha1 = FetchedDigest("SHA1")
}
