import Foundation

/// A throwaway certificate authority for TLS tests, made with the `openssl`
/// command in a temporary folder: P-256 keys, the CA valid ten years, each
/// certificate it issues 30 days. Key files are 0600, as the gateway expects.
public final class TestCertificates: @unchecked Sendable {
    /// A certificate and its key, as PEM files.
    public struct Pair: Sendable {
        public let certificate: String
        public let key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let folder: URL
    public let ca: Pair
    private var serial = 1

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("linkgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        ca = Pair(
            certificate: folder.appendingPathComponent("ca.pem").path, key: folder.appendingPathComponent("ca.key").path
        )
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca.key,
            "-out", ca.certificate, "-days", "3650", "-subj", "/CN=Linkgate Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        chmod(ca.key, 0o600)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// A certificate signed by the CA for `names` (DNS names and IP addresses in
    /// its subjectAltName), for a server or, with `client`, for a client.
    /// - Parameter chain: the CA certificate follows the leaf in the certificate file.
    public func issue(
        _ file: String, commonName: String, names: [String] = [], client: Bool = false, chain: Bool = false
    )
        throws -> Pair
    {
        let pair = Pair(
            certificate: folder.appendingPathComponent("\(file).pem").path,
            key: folder.appendingPathComponent("\(file).key").path)
        let request = folder.appendingPathComponent("\(file).csr").path
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", pair.key,
            "-out", request, "-subj", "/CN=\(commonName)",
        ])
        chmod(pair.key, 0o600)
        var extensions = [
            "basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=\(client ? "clientAuth" : "serverAuth")",
        ]
        let alternatives = names.map { name in
            name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\(name)" : "DNS:\(name)"
        }
        if !alternatives.isEmpty { extensions.append("subjectAltName=" + alternatives.joined(separator: ",")) }
        let extensionFile = folder.appendingPathComponent("\(file).ext").path
        try extensions.joined(separator: "\n").write(toFile: extensionFile, atomically: true, encoding: .utf8)
        serial += 1
        try Self.openssl([
            "x509", "-req", "-in", request, "-CA", ca.certificate, "-CAkey", ca.key, "-set_serial", String(serial),
            "-days", "30", "-out", pair.certificate, "-extfile", extensionFile,
        ])
        if chain {
            let leaf = try String(contentsOfFile: pair.certificate, encoding: .utf8)
            let authority = try String(contentsOfFile: ca.certificate, encoding: .utf8)
            try (leaf + authority).write(toFile: pair.certificate, atomically: true, encoding: .utf8)
        }
        return pair
    }

    /// The certificate's serial number as `openssl x509 -serial` prints it (hex).
    public static func serial(of certificate: String) throws -> String {
        let output = try openssl(["x509", "-in", certificate, "-noout", "-serial"])
        return output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}
