import Grants

/// Why the gateway could not start: a setting to correct or a broken install,
/// said so the operator can act on it. Never holds a secret.
public struct GatewaySetupError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }

    init(_ message: String) { self.message = message }

    /// `error` as a setup error: the ones that already speak to the operator keep
    /// their message; an upstream problem is prefixed with the policy folder.
    static func wrapping(_ error: any Error, folder: String) -> any Error {
        switch error {
        case let error as UpstreamTarget.Problem: return GatewaySetupError("\(folder): \(error)")
        case let error as SigningKeyError: return GatewaySetupError(error.message)
        default: return error
        }
    }
}
