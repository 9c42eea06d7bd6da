/// Size limits checked before any decoding or crypto, so an oversized or
/// misshapen token costs almost nothing to refuse.
public struct TokenLimits: Sendable, Hashable {
    /// Longest accepted compact token, in bytes.
    public var maxTokenBytes: Int
    /// Longest accepted base64url header segment.
    public var maxHeaderBytes: Int
    /// Longest accepted base64url signature segment.
    public var maxSignatureBytes: Int

    public init(maxTokenBytes: Int, maxHeaderBytes: Int, maxSignatureBytes: Int) {
        self.maxTokenBytes = maxTokenBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxSignatureBytes = maxSignatureBytes
    }

    /// 8 KiB tokens (docs/gateway.md §4); a 1 KiB header; signatures up to RSA-8192 (1,366 characters).
    public static let standard = TokenLimits(maxTokenBytes: 8 * 1024, maxHeaderBytes: 1024, maxSignatureBytes: 1366)
}
