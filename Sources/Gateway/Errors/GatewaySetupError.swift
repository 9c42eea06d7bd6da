/// Why the gateway could not start: a setting to correct or a broken install,
/// said so the operator can act on it. Never holds a secret.
public struct GatewaySetupError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }

    init(_ message: String) { self.message = message }
}
