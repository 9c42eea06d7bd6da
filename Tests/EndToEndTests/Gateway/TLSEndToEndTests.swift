import Foundation
import TestSupport
import Testing

/// TLS through the real binary (docs/tls.md): the main, admin and authz
/// listeners over HTTPS with a test CA, reached by curl and Python `requests`;
/// TLS 1.1 and plain HTTP refused; a certificate swapped on disk served to new
/// connections while an open one keeps working, and a broken one refused with
/// the old kept; upstreams over HTTPS with a private CA, with mutual TLS, and
/// one whose certificate names another host (a 502 whose log line says why).
@Suite(
    "TLS end to end: HTTPS listeners, certificate reload, HTTPS upstreams",
    .enabled(
        if: ProcessInfo.processInfo.environment["LINKGATE_PYTHON"] != nil, "needs LINKGATE_PYTHON (make test sets it)"))
struct TLSEndToEndTests {
    static let python = ProcessInfo.processInfo.environment["LINKGATE_PYTHON"]
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Interop")

    /// The gateway's certificate and key in the policy copy, named by gateway.json.
    static let certificateFile = "tls/gateway.pem"
    static let keyFile = "tls/gateway.key"

    @Test(
        "HTTPS listeners and upstreams, TLS 1.1 and plain HTTP refused, a certificate swapped without a dropped connection"
    )
    func httpsEndToEnd() async throws {
        let python = try #require(Self.python)
        let certificates = try TestCertificates()
        let served = try certificates.issue(
            "gateway", commonName: "localhost", names: ["localhost", "127.0.0.1"], chain: true)
        let renewed = try certificates.issue("renewed", commonName: "localhost", names: ["localhost", "127.0.0.1"])
        let upstream = try certificates.issue("upstream", commonName: "upstream", names: ["localhost", "127.0.0.1"])
        let elsewhere = try certificates.issue("elsewhere", commonName: "elsewhere", names: ["other.example"])
        let client = try certificates.issue("client", commonName: "linkgate-gateway", client: true)
        let ca = certificates.ca.certificate

        let upstreams = try ServerProcess(
            URL(fileURLWithPath: python),
            [
                Self.interop.appendingPathComponent("tls_upstream.py").path,
                "--serve", "secure,\(upstream.certificate),\(upstream.key)",
                "--serve", "mutual,\(upstream.certificate),\(upstream.key),\(ca)",
                "--serve", "elsewhere,\(elsewhere.certificate),\(elsewhere.key)",
            ],
            name: "tls_upstream.py")
        defer { upstreams.stop() }
        let securePort = try await upstreams.port(after: "secure listening on https://127.0.0.1")
        let mutualPort = try await upstreams.port(after: "mutual listening on https://127.0.0.1")
        let elsewherePort = try await upstreams.port(after: "elsewhere listening on https://127.0.0.1")

        let gateway = try await GatewayFixture { folder in
            let tls = folder.appendingPathComponent("tls")
            try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: served.certificate, toPath: folder.appendingPathComponent(Self.certificateFile).path)
            try FileManager.default.copyItem(
                atPath: served.key, toPath: folder.appendingPathComponent(Self.keyFile).path)
            let files = ["certificateFile": Self.certificateFile, "keyFile": Self.keyFile]
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["tls"] = files
                $0["adminTls"] = files
                $0["authzTls"] = files
                $0["authzListen"] = "127.0.0.1:0"
            }
            try GatewayFixture.editJSON(folder.appendingPathComponent("routes.json")) { routes in
                var list = routes["upstreams"] as! [String: Any]
                list["secure"] = ["url": "https://127.0.0.1:\(securePort)", "tls": ["caFile": ca]]
                list["mutual"] = [
                    "url": "https://localhost:\(mutualPort)",
                    "tls": ["caFile": ca, "certificateFile": client.certificate, "keyFile": client.key],
                ]
                list["mutualWithout"] = ["url": "https://localhost:\(mutualPort)", "tls": ["caFile": ca]]
                list["elsewhere"] = ["url": "https://127.0.0.1:\(elsewherePort)", "tls": ["caFile": ca]]
                routes["upstreams"] = list
                var rules = routes["routes"] as! [Any]
                for (path, upstream) in [
                    ("/tls/secure", "secure"), ("/tls/mutual", "mutual"),
                    ("/tls/mutual-without-certificate", "mutualWithout"), ("/tls/wrong-name", "elsewhere"),
                ] {
                    rules.append(["methods": ["GET"], "path": path, "upstream": upstream, "public": true])
                }
                routes["routes"] = rules
            }
        }
        let port = try await gateway.gateway.port(after: "main listener on https://127.0.0.1")
        let adminPort = try await gateway.gateway.port(after: "admin listener on https://127.0.0.1")
        let authzPort = try await gateway.gateway.port(after: "authz listener on https://127.0.0.1")
        let script = Self.interop.appendingPathComponent("tls_client.py").path

        let checks = try await Command.run(
            python,
            [
                script, "listeners", "--port", "\(port)", "--admin-port", "\(adminPort)", "--authz-port",
                "\(authzPort)",
                "--ca", ca,
            ], timeout: 60)
        #expect(checks.succeeded, "\(checks)")
        // The 502's log line says why: the name the certificate was verified for was not in it.
        let why = await gateway.gateway.waitForOutput(timeout: 10) { output in
            output.split(separator: "\n").contains { line in
                line.contains("upstream request failed") && line.contains("upstream=elsewhere")
                    && line.contains("upstream_tls_failed") && line.contains("failedToValidateHostname")
                    && line.contains("verified for 127.0.0.1")
            }
        }
        #expect(why, "the log says why the upstream's TLS failed")

        // curl with the test CA, curl limited to TLS 1.1, and curl speaking plain HTTP to the TLS port.
        let curl = try #require(Command.find("curl"))
        let fetched = try await Command.run(curl, ["-sS", "--cacert", ca, "https://localhost:\(port)/tls/secure"])
        #expect(fetched.succeeded && fetched.output.contains("\"upstream\": \"secure\""), "\(fetched)")
        let oldTLS = try await Command.run(
            curl,
            [
                "-sS", "--cacert", ca, "--tlsv1.0", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0",
                "https://localhost:\(port)/tls/secure",
            ])
        #expect(!oldTLS.succeeded && !oldTLS.output.contains("upstream"), "\(oldTLS)")
        let plain = try await Command.run(curl, ["-sS", "-i", "http://127.0.0.1:\(port)/tls/secure"])
        #expect(plain.output.hasPrefix("HTTP/1.1 400 Bad Request"), "\(plain)")
        #expect(plain.output.contains("this port speaks HTTPS"), "\(plain)")

        // A renewed certificate renamed into place: new connections get it, an open one keeps working.
        let folder = gateway.folder.path
        let swapped = try await Command.run(
            python,
            [
                script, "swap", "--port", "\(port)", "--ca", ca,
                "--cert-file", folder + "/" + Self.certificateFile, "--key-file", folder + "/" + Self.keyFile,
                "--new-cert", renewed.certificate, "--new-key", renewed.key,
                "--old-serial", try TestCertificates.serial(of: served.certificate),
                "--new-serial", try TestCertificates.serial(of: renewed.certificate),
            ], timeout: 60)
        #expect(swapped.succeeded, "\(swapped)")
        _ = try await gateway.gateway.waitForLine(after: "TLS certificate of the main listener reloaded", timeout: 10)

        // A broken certificate file: refused in the log, the renewed one still served. (The swap may
        // have logged a refusal already, when the key was renamed in before the certificate.)
        let refusal = "TLS certificate of the main listener not reloaded"
        let refusalsBefore = gateway.gateway.text.components(separatedBy: refusal).count
        try "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n".write(
            toFile: folder + "/" + Self.certificateFile, atomically: true, encoding: .utf8)
        let refused = await gateway.gateway.waitForOutput(timeout: 10) { output in
            output.components(separatedBy: refusal).count > refusalsBefore
        }
        #expect(refused, "the broken certificate is refused in the log")
        let serial = try await Command.run(python, [script, "serial", "--port", "\(port)", "--ca", ca])
        #expect(serial.succeeded, "\(serial)")
        let renewedSerial = try TestCertificates.serial(of: renewed.certificate)
        #expect(
            UInt64(serial.output.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
                == UInt64(renewedSerial, radix: 16), "\(serial)")
    }
}
