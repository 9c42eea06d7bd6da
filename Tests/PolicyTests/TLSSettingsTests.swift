import Testing

@testable import Policy

/// The `tls` objects of gateway.json and routes.json (docs/tls.md): read into
/// the settings with paths resolved against the folder, and their keys counted
/// among the private files `check` looks at.
@Suite("TLS settings: listener and upstream files")
struct TLSSettingsTests {
    @Test("listener and upstream TLS files are read, resolved against the folder, and their keys are private files")
    func readsTLSFiles() throws {
        let folder = try PolicyFixtures.folder(files: [
            "routes.json": """
            { "upstreams": { "backend": { "url": "https://127.0.0.1:9443",
                "tls": { "caFile": "tls/ca.pem", "certificateFile": "tls/client.pem", "keyFile": "tls/client.key",
                         "serverName": "api.internal" } } },
              "routes": [ { "methods": ["GET"], "path": "/a", "upstream": "backend", "public": true } ] }
            """,
            "tls/gateway.pem": "certificate", "tls/gateway.key": "key", "tls/ca.pem": "ca",
            "tls/client.pem": "client", "tls/client.key": "client key",
        ])
        // An absolute path is used as it is.
        let absoluteKey = folder.path + "/tls/gateway.key"
        try folder.write(
            "gateway.json",
            """
            { "baseUrl": "https://linkgate.example.com",
              "tls": { "certificateFile": "tls/gateway.pem", "keyFile": "tls/gateway.key" },
              "authzTls": { "certificateFile": "tls/gateway.pem", "keyFile": "\(absoluteKey)" } }
            """)
        let document = try PolicyLoader.load(folder: folder.path, environment: [:])
        let tls = try #require(document.gateway.tls)
        #expect(tls.certificateFile == "tls/gateway.pem")
        #expect(tls.certificatePath == folder.path + "/tls/gateway.pem")
        #expect(document.gateway.adminTls == nil)
        #expect(document.gateway.authzTls?.keyPath == absoluteKey)
        let upstream = try #require(document.upstreams.first { $0.name == "backend" }?.tls)
        #expect(upstream.caFile?.path == folder.path + "/tls/ca.pem")
        #expect(upstream.keyFile?.written == "tls/client.key")
        #expect(upstream.serverName == "api.internal")
        #expect(Set(document.privateFilePaths).isSuperset(of: ["tls/gateway.key", absoluteKey, "tls/client.key"]))
    }
}
