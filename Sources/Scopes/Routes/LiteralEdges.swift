/// Every literal edge of the route trie in one open-addressing table keyed by
/// (parent node, segment bytes), so stepping down a literal costs one FNV-1a
/// pass over the segment and usually one probe, with no `String` hashing and no
/// reference counting. Segments are compared as bytes, exactly as they are
/// forwarded: no Unicode equivalence, no decoding.
///
/// The keys come from the policy, not the request: a request chooses which
/// hash to look up but cannot lengthen a probe sequence, and the table is kept
/// at most half full.
struct LiteralEdges: Sendable {
    private struct Edge: Sendable {
        var hash: UInt64
        var parent: Int32
        var child: Int32
        var textStart: Int32
        var textCount: Int32
    }

    private var slots: [Int32]
    private var edges: [Edge] = []
    private var text: [UInt8] = []
    private var mask: Int

    init(capacity: Int) {
        var size = 8
        while size < capacity * 2 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    /// Adds the edge `parent --literal--> child`; the literal must be new.
    mutating func insert(parent: Int, literal bytes: [UInt8], child: Int) {
        let hash = bytes.withUnsafeBufferPointer { LiteralEdges.hash(parent: parent, $0) }
        edges.append(
            Edge(
                hash: hash, parent: Int32(parent), child: Int32(child), textStart: Int32(text.count),
                textCount: Int32(bytes.count)))
        text += bytes
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(edges.count - 1)
    }

    /// The child reached from `parent` by the segment `bytes`, if any.
    func child(of parent: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = LiteralEdges.hash(parent: parent, bytes)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let position = Int(slots[slot])
            if position < 0 { return nil }
            let edge = edges[position]
            if edge.hash == hash, Int(edge.parent) == parent, Int(edge.textCount) == bytes.count,
                equal(Int(edge.textStart), bytes)
            {
                return Int(edge.child)
            }
            slot = (slot + 1) & mask
        }
    }

    private func equal(_ start: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        text.withUnsafeBufferPointer { stored in
            for offset in 0..<bytes.count where stored[start + offset] != bytes[offset] { return false }
            return true
        }
    }

    /// FNV-1a over the parent's index then the bytes, finished with a shift-xor
    /// so the low bits used for the slot depend on every byte.
    private static func hash(parent: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let prime: UInt64 = 0x100_0000_01b3
        var hash: UInt64 = (0xcbf2_9ce4_8422_2325 ^ UInt64(truncatingIfNeeded: parent)) &* prime
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return hash ^ (hash >> 29)
    }
}
