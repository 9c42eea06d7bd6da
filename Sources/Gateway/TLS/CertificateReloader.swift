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

    /// The files `settings` names for `listener`.
    static func files(of listener: String, in settings: GatewaySettings) -> ListenerTLSFiles? {
        switch listener {
        case "main": settings.tls
        case "admin": settings.adminTls
        default: settings.authzTls
        }
    }

    /// Reloads every certificate whose files changed; `force` (SIGHUP) reloads them all.
    func check(_ settings: GatewaySettings, force: Bool) {
        for certificate in certificates {
            guard let files = Self.files(of: certificate.listener, in: settings) else {
                if force {
                    logger.warning(
                        "the \(certificate.listener) listener keeps TLS until the gateway restarts",
                        metadata: ["listener": .string(certificate.listener)])
                }
                continue
            }
            switch certificate.reload(files, force: force) {
            case .unchanged:
                break
            case .reloaded:
                metrics?.certificateReload(listener: certificate.listener, succeeded: true)
                logger.notice(
                    "TLS certificate of the \(certificate.listener) listener reloaded from \(files.certificateFile)",
                    metadata: ["listener": .string(certificate.listener), "result": "success"])
            case .failed(let reason):
                metrics?.certificateReload(listener: certificate.listener, succeeded: false)
                logger.error(
                    "TLS certificate of the \(certificate.listener) listener not reloaded: \(reason); the previous one stays in force",
                    metadata: ["listener": .string(certificate.listener), "result": "failure"])
            }
        }
    }
}

/// The certificates of the listeners that speak TLS, loaded at start.
struct ListenerCertificates: Sendable {
    let main: ListenerCertificate?
    let admin: ListenerCertificate?
    let authz: ListenerCertificate?

    /// - Throws: `TLSFilesError` naming the listener whose files cannot be used.
    init(_ settings: GatewaySettings) throws(TLSFilesError) {
        main = try Self.load("main", settings)
        admin = try Self.load("admin", settings)
        authz = try Self.load("authz", settings)
    }

    var all: [ListenerCertificate] { [main, admin, authz].compactMap { $0 } }

    private static func load(
        _ listener: String, _ settings: GatewaySettings
    ) throws(TLSFilesError)
        -> ListenerCertificate?
    {
        guard let files = CertificateReloader.files(of: listener, in: settings) else { return nil }
        do {
            return try ListenerCertificate(listener: listener, files: files)
        } catch {
            let key = listener == "main" ? "tls" : "\(listener)Tls"
            throw TLSFilesError("/\(key): \(error.message)")
        }
    }
}
