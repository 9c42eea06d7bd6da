import Foundation

/// Databases on the test cluster, one per test, made with its `createdb`.
public enum PostgresCluster {
    /// Whether `scripts/with-postgres.sh` (or an external server) provides a cluster.
    public static var isAvailable: Bool { ProcessInfo.processInfo.environment["LINKGATE_TEST_POSTGRES"] != nil }

    /// The URL of a new, empty database.
    public static func newDatabase() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["LINKGATE_TEST_POSTGRES"], let components = URLComponents(string: url),
            let port = components.port, let bin = environment["LINKGATE_TEST_POSTGRES_BIN"]
        else { throw CocoaError(.featureUnsupported) }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bin + "/createdb")
        process.arguments = [
            "-h", components.host ?? "127.0.0.1", "-p", String(port), "-U", components.user ?? "linkgate",
            String(name),
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        var database = components
        database.path = "/" + name
        return database.string!
    }
}
