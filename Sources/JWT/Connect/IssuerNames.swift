#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The app keys (`iss`) of Connect JWTs this thread verified, so a token from an
/// app seen before reuses that app key's `String` rather than making one: a key
/// longer than 15 bytes is no small string, and making it allocated on every
/// verification (docs/jwt.md, "The Connect request binding").
///
/// The key lookup still gets the app key on every verification, an equal `String`
/// sharing storage with one made earlier, so it answers as before. Only app keys the
/// lookup knew are remembered, in `slots` places per thread chosen by the key's
/// length and last byte, so unknown issuers cost no memory. Each thread has its own
/// slots (a pthread key): no lock, nothing shared, no reference counted on the way.
enum IssuerNames {
    static let slots = 4

    /// This thread's slots: `slots` strings, "" where none is remembered.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { names in
            #if canImport(Darwin)
            let names: UnsafeMutableRawPointer? = names
            #endif
            guard let names else { return }
            let strings = names.assumingMemoryBound(to: String.self)
            strings.deinitialize(count: IssuerNames.slots)
            strings.deallocate()
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    private static var names: UnsafeMutablePointer<String> {
        if let names = pthread_getspecific(threadKey) {
            return names.assumingMemoryBound(to: String.self)
        }
        let names = UnsafeMutablePointer<String>.allocate(capacity: slots)
        names.initialize(repeating: "", count: slots)
        pthread_setspecific(threadKey, names)
        return names
    }

    @inline(__always)
    private static func slot(count: Int, last: UInt8) -> Int {
        (count &+ Int(last)) & (slots - 1)
    }

    /// The app key whose UTF-8 is `bytes`, and whether it is a remembered one.
    static func name(_ bytes: UnsafeBufferPointer<UInt8>) -> (name: String, isRemembered: Bool) {
        // Up to 15 bytes a `String` is stored inline: nothing to save.
        guard bytes.count > 15, let base = bytes.baseAddress else {
            return (String(decoding: bytes, as: UTF8.self), false)
        }
        let remembered = names + slot(count: bytes.count, last: base[bytes.count - 1])
        let same = remembered.pointee.utf8.withContiguousStorageIfAvailable { stored in
            stored.count == bytes.count && memcmp(stored.baseAddress!, base, bytes.count) == 0
        }
        if same == true { return (remembered.pointee, true) }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    /// Remembers `name`, an app key the lookup knew and `name(_:)` did not return.
    static func remember(_ name: String) {
        let count = name.utf8.count
        guard count > 15, let last = name.utf8.last else { return }
        names[slot(count: count, last: last)] = name
    }
}
