/// A secret from a policy file: a shared secret, a client secret.
///
/// Its value is reachable only through `bytes` and `string`: printing, dumping
/// or interpolating a `Secret` shows where it came from, never what it is, so a
/// secret cannot leak into a log line or an error message by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Where a secret's value was taken from.
    public enum Origin: Sendable, Hashable {
        /// Written in the policy file itself.
        case literal
        /// `{"env": NAME}`: an environment variable.
        case environment(String)
        /// `{"file": PATH}`: a file, the path as written (relative to the policy folder).
        case file(String)
    }

    /// The secret's value, as bytes (an HMAC key, for instance).
    public let bytes: [UInt8]
    /// Where the value came from; safe to show.
    public let origin: Origin

    public init(bytes: [UInt8], origin: Origin) {
        self.bytes = bytes
        self.origin = origin
    }

    public init(_ value: String, origin: Origin = .literal) {
        self.init(bytes: Array(value.utf8), origin: origin)
    }

    /// The value as text (for secrets compared with what a client sends).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Says where the secret came from, never its value.
    public var description: String {
        switch origin {
        case .literal: "Secret(literal, redacted)"
        case .environment(let name): "Secret(env \(name), redacted)"
        case .file(let path): "Secret(file \(path), redacted)"
        }
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers see the origin only.
    public var customMirror: Mirror {
        Mirror(self, children: ["origin": origin], displayStyle: .struct)
    }
}
