import Logging
import Policy

/// Loads the TLS listeners' certificates again when their files change or on
/// SIGHUP (docs/tls.md §1); the policy reloader calls it after each look at the
/// policy folder. Whether a listener speaks TLS at all is fixed at start: a
/// policy that turns it on or off is told to need a restart.
struct CertificateReloader: Sendable {
    let certificates: [ListenerCertificate]
    let metrics: GatewayMetrics?
    let logger: Logger

    /// Reloads every certificate whose files changed; `force` (SIGHUP) reloads them all.
    func check(_ settings: GatewaySettings, force: Bool) {
        for certificate in certificates {
            let listener = certificate.listener.rawValue
            guard let files = certificate.listener.files(in: settings) else {
                if force {
                    logger.warning(
                        "the \(listener) listener keeps TLS until the gateway restarts",
                        metadata: ["listener": .string(listener)])
                }
                continue
            }
            switch certificate.reload(files, force: force) {
            case .unchanged:
                break
            case .reloaded:
                metrics?.certificateReload(listener: listener, succeeded: true)
                logger.notice(
                    "TLS certificate of the \(listener) listener reloaded from \(files.certificateFile)",
                    metadata: ["listener": .string(listener), "result": "success"])
            case .failed(let reason):
                metrics?.certificateReload(listener: listener, succeeded: false)
                logger.error(
                    "TLS certificate of the \(listener) listener not reloaded: \(reason); the previous one stays in force",
                    metadata: ["listener": .string(listener), "result": "failure"])
            }
        }
    }
}

/// A listener that may speak TLS, and where `gateway.json` names its files.
enum TLSListener: String, Sendable, CaseIterable {
    case main, admin, authz

    /// The `gateway.json` key of its certificate and key.
    var settingsKey: String {
        switch self {
        case .main: "tls"
        case .admin: "adminTls"
        case .authz: "authzTls"
        }
    }

    /// The files `settings` names for this listener.
    func files(in settings: GatewaySettings) -> ListenerTLSFiles? {
        switch self {
        case .main: settings.tls
        case .admin: settings.adminTls
        case .authz: settings.authzTls
        }
    }
}

/// The certificates of the listeners that speak TLS, loaded at start.
struct ListenerCertificates: Sendable {
    private let byListener: [TLSListener: ListenerCertificate]

    /// - Throws: `TLSFilesError` naming the `gateway.json` key whose files cannot be used.
    init(_ settings: GatewaySettings) throws(TLSFilesError) {
        var byListener: [TLSListener: ListenerCertificate] = [:]
        for listener in TLSListener.allCases {
            guard let files = listener.files(in: settings) else { continue }
            do {
                byListener[listener] = try ListenerCertificate(listener: listener, files: files)
            } catch {
                throw TLSFilesError("/\(listener.settingsKey): \(error.message)")
            }
        }
        self.byListener = byListener
    }

    subscript(_ listener: TLSListener) -> ListenerCertificate? { byListener[listener] }

    /// `https` for a listener that speaks TLS, else `http`.
    func scheme(_ listener: TLSListener) -> String { byListener[listener] == nil ? "http" : "https" }

    var all: [ListenerCertificate] { TLSListener.allCases.compactMap { byListener[$0] } }
}
