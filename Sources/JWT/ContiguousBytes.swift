extension Collection where Element == UInt8 {
    /// Calls `body` with the bytes in contiguous memory: the collection's own
    /// storage when it has some (a native string's UTF-8, an array), a copy otherwise.
    ///
    /// The standard library's `withContiguousStorageIfAvailable` rethrows as
    /// `any Error`; this keeps the error a `JWTError` (docs/jwt.md).
    @inline(__always)
    func withContiguousBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(JWTError) -> R) throws(JWTError) -> R {
        let direct = withContiguousStorageIfAvailable { buffer in
            Result { () throws(JWTError) -> R in try body(buffer) }
        }
        if let direct { return try direct.get() }
        return try Array(self).withUnsafeBufferPointer(body)
    }
}
