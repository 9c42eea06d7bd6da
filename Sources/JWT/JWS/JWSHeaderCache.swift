internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsed headers remembered by their exact base64url text.
///
/// An app sends the same header bytes on every request (`{"alg":"HS256","typ":"JWT"}`),
/// and parsing it costs more than looking it up. Only headers that parsed and
/// passed `JWSHeader`'s checks are kept, so a cached header is exactly what
/// parsing would give again (the bytes are compared in full on every hit).
/// The cache is bounded: `capacity` slots, each chosen by a hash of the segment
/// and holding one header, so hostile tokens with ever-new headers cost memory
/// no more than `capacity` entries and simply miss. A hit copies nothing and
/// allocates nothing.
/// Hits take a shared (read) lock, so threads verifying tokens do not wait on one another.
final class JWSHeaderCache: @unchecked Sendable {
    static let shared = JWSHeaderCache(capacity: 256)

    private struct Slot {
        var segment: [UInt8]
        var header: JWSHeader
    }

    private let capacity: Int
    /// Guarded by `lock`: read under its read lock, written under its write lock.
    private var slots: [Slot?]
    private let lock: UnsafeMutableRawPointer

    init(capacity: Int) {
        precondition(capacity > 0, "a header cache needs at least one slot")
        guard let lock = CRYPTO_THREAD_lock_new() else { preconditionFailure("OpenSSL could not allocate a lock") }
        self.capacity = capacity
        self.slots = [Slot?](repeating: nil, count: capacity)
        self.lock = lock
    }

    deinit { CRYPTO_THREAD_lock_free(lock) }

    /// The header whose segment is `segment`, parsed by `parse` on a miss.
    func header(
        for segment: UnsafeBufferPointer<UInt8>, parse: () throws(JWTError) -> JWSHeader
    ) throws(JWTError) -> JWSHeader {
        let index = Int(Self.hash(segment) % UInt64(capacity))
        CRYPTO_THREAD_read_lock(lock)
        var cached: JWSHeader?
        if let slot = slots[index], Self.equal(slot.segment, segment) { cached = slot.header }
        CRYPTO_THREAD_unlock(lock)
        if let cached { return cached }
        let header = try parse()
        let slot = Slot(segment: Array(segment), header: header)
        CRYPTO_THREAD_write_lock(lock)
        slots[index] = slot
        CRYPTO_THREAD_unlock(lock)
        return header
    }

    private static func equal(_ stored: [UInt8], _ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        guard stored.count == segment.count else { return false }
        guard let right = segment.baseAddress, !segment.isEmpty else { return true }
        return stored.withUnsafeBufferPointer { memcmp($0.baseAddress!, right, segment.count) == 0 }
    }

    /// FNV-1a over the bytes: a slot index, not a security boundary (a collision only evicts).
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
