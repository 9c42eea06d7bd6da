import NIOCore
import NIOSSL
import Policy

/// How the gateway speaks TLS to one upstream (docs/tls.md §2): a client context
/// that trusts the upstream's CA (the system's roots when none is named) and
/// presents a client certificate when one is named, and the name its
/// certificate is verified for. Verification is always on.
final class UpstreamTLS: Sendable {
    let context: NIOSSLContext
    /// The name verified in the upstream's certificate and sent as SNI; nil for
    /// an address, which is verified against the certificate's IP addresses.
    let serverName: String?
    /// Tells the pools apart: connections made with other files, or files that
    /// changed since, are not reused for this upstream.
    let poolKey: String

    /// - Throws: `TLSFilesError` when a file cannot be used.
    init(files: UpstreamTLSFiles?, host: String) throws(TLSFilesError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let ca = files?.caFile {
            configuration.trustRoots = .certificates(try TLSFilesError.loadingCertificates(ca.written, path: ca.path))
        }
        if let certificate = files?.certificateFile, let key = files?.keyFile {
            let chain = try TLSFilesError.loadingCertificates(certificate.written, path: certificate.path)
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFilesError.loadingKey(key.written, path: key.path))
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError("cannot make a TLS client context: \(error)")
        }
        serverName = files?.serverName ?? (host.isIPAddress ? nil : host)
        let paths = [files?.caFile?.path, files?.certificateFile?.path, files?.keyFile?.path].compactMap { $0 }
        poolKey = "tls \(serverName ?? "-") \(paths) \(FileStamp(paths: paths))"
    }
}

extension String {
    /// Whether this is an IPv4 or IPv6 address rather than a name (no SNI for addresses).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
