import NIOCore

/// What the server reports as it starts and stops. The executable prints these
/// as the startup lines that scripts and tests wait for (docs/gateway.md).
public enum GatewayEvent: Sendable {
    /// The policy folder was loaded and compiled.
    case policyLoaded(folder: String, summary: String)
    /// The store is open and the access-token signing key is in hand.
    case storeOpened(location: String, algorithm: String, keyID: String)
    /// A listener accepts connections on the address its channel is bound to,
    /// over `scheme` (`https` when it speaks TLS).
    case listening(String, any Channel, scheme: String = "http")
    /// Every service has drained and the store is closed.
    case stopped
}

extension GatewayEvent {
    /// The line an operator reads: `linkgate: main listener on http://127.0.0.1:8080`
    /// (`https://` for a TLS listener).
    public var line: String {
        switch self {
        case .policyLoaded(let folder, let summary):
            return "linkgate: policies from \(folder): \(summary)"
        case .storeOpened(let location, let algorithm, let keyID):
            return "linkgate: store \(location), access tokens signed \(algorithm) (kid \(keyID))"
        case .listening(let name, let channel, let scheme):
            let address = channel.localAddress
            let host = address?.ipAddress ?? "?"
            let shown = host.contains(":") ? "[\(host)]" : host
            return "linkgate: \(name) listener on \(scheme)://\(shown):\(address?.port ?? 0)"
        case .stopped:
            return "linkgate: stopped"
        }
    }
}
