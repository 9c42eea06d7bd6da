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
///
/// In front of the slots sit a few pinned headers, the ones nearly every Connect
/// app sends (`pinnedHeaders`): parsed once, at `init`, by the same parser as any
/// other header, never evicted and never written again, so a token with one of
/// them is answered by a length check and a `memcmp`, with no hash and no lock
/// (docs/jwt.md, "What a token must look like").
final class JWSHeaderCache: @unchecked Sendable {
    static let shared = JWSHeaderCache(capacity: 256, pinned: pinnedHeaders)

    /// The JSON of the headers Connect apps send: atlassian-connect-express
    /// (jwt-simple) writes `typ` first, this module's `JWTSigner` and many other
    /// libraries write `alg` first, and a header may hold `alg` alone.
    static let pinnedHeaders = [
        #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256","typ":"JWT"}"#, #"{"alg":"HS256"}"#,
    ]

    private struct Slot {
        var segment: [UInt8]
        var header: JWSHeader
    }

    /// What a verifier chooses the key by. The Connect common case reads only
    /// these two members, so a pinned hit hands them over without copying the
    /// header's other members.
    struct KeySelector: Sendable {
        var algorithm: JWSAlgorithm
        var keyID: String?

        init(_ header: JWSHeader) {
            algorithm = header.algorithm
            keyID = header.keyID
        }
    }

    private let capacity: Int
    /// Written only by `init`, so read without the lock.
    private let pinned: [Slot]
    /// `pinned[i]`'s key selector, also written only by `init`.
    private let pinnedSelectors: [KeySelector]
    /// Guarded by `lock`: read under its read lock, written under its write lock.
    private var slots: [Slot?]
    private let lock: UnsafeMutableRawPointer

    /// - Parameter pinned: header JSON texts kept for good in front of the slots;
    ///   each must be a header the parser accepts.
    init(capacity: Int, pinned: [String] = []) {
        precondition(capacity > 0, "a header cache needs at least one slot")
        guard let lock = CRYPTO_THREAD_lock_new() else { preconditionFailure("OpenSSL could not allocate a lock") }
        self.capacity = capacity
        self.pinned = pinned.map(Self.pinnedSlot)
        self.pinnedSelectors = self.pinned.map { KeySelector($0.header) }
        self.slots = [Slot?](repeating: nil, count: capacity)
        self.lock = lock
    }

    /// The slot of a pinned header: its base64url segment, parsed as a token's would be.
    private static func pinnedSlot(_ json: String) -> Slot {
        let segment = Array(Base64URL.encode(Array(json.utf8)).utf8)
        let header = segment.withUnsafeBufferPointer { segment in
            try? JWSHeader(segment: segment)
        }
        guard let header else { preconditionFailure("the pinned header \(json) does not parse") }
        return Slot(segment: segment, header: header)
    }

    deinit { CRYPTO_THREAD_lock_free(lock) }

    /// The header whose segment is `segment`, parsed by `parse` on a miss.
    func header(
        for segment: UnsafeBufferPointer<UInt8>, parse: () throws(JWTError) -> JWSHeader
    ) throws(JWTError) -> JWSHeader {
        if let header = pinnedHeader(for: segment) { return header }
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

    /// `alg` and `kid` of the header whose segment is `segment`, parsed by `parse`
    /// on a miss: `header(for:parse:)` for a caller that needs no other member.
    func keySelector(
        for segment: UnsafeBufferPointer<UInt8>, parse: () throws(JWTError) -> JWSHeader
    ) throws(JWTError) -> KeySelector {
        if let index = pinnedIndex(of: segment) { return pinnedSelectors[index] }
        return KeySelector(try header(for: segment, parse: parse))
    }

    /// The pinned header whose segment is exactly `segment`, if any.
    @inline(__always)
    private func pinnedHeader(for segment: UnsafeBufferPointer<UInt8>) -> JWSHeader? {
        pinnedIndex(of: segment).map { pinned[$0].header }
    }

    /// Where `segment` is among the pinned segments: no lock, since `pinned` never changes.
    @inline(__always)
    private func pinnedIndex(of segment: UnsafeBufferPointer<UInt8>) -> Int? {
        for index in pinned.indices where Self.equal(pinned[index].segment, segment) { return index }
        return nil
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
