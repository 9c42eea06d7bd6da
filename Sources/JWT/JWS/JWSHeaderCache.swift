import Synchronization

/// Parsed headers remembered by their exact base64url text.
///
/// An app sends the same header bytes on every request (`{"alg":"HS256","typ":"JWT"}`),
/// and parsing it through jansson costs about as much as the HMAC. Only headers
/// that parsed and passed `JWSHeader`'s checks are kept, so a cached header is
/// exactly what parsing would give again. The cache is bounded: when full it is
/// emptied, so hostile tokens with ever-new headers cost memory no more than
/// `capacity` entries and simply miss.
final class JWSHeaderCache: Sendable {
    static let shared = JWSHeaderCache(capacity: 256)

    private let capacity: Int
    private let entries = Mutex<[[UInt8]: JWSHeader]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The header whose segment is `segment`, parsed by `parse` on a miss.
    func header(
        for segment: UnsafeBufferPointer<UInt8>, parse: () throws(JWTError) -> JWSHeader
    ) throws(JWTError) -> JWSHeader {
        let key = Array(segment)
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let header = try parse()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = header
        }
        return header
    }
}
