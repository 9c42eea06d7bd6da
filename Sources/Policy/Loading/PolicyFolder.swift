import Foundation
import JWT

/// The policy folder being read, and what a file in it may refer to: other
/// files and the environment. Holds the load's problem log.
struct PolicyFolder {
    /// The folder's path as given.
    let path: String
    let environment: [String: String]
    let log: ProblemLog

    /// The absolute or folder-relative path of a file a policy refers to.
    func resolve(_ relative: String) -> String {
        relative.hasPrefix("/") ? relative : path + "/" + relative
    }

    /// The bytes of a file a policy names, or `nil` when it cannot be read.
    func contents(of relative: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: resolve(relative)) else { return nil }
        return Array(data)
    }

    func isDirectory(_ relative: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: resolve(relative), isDirectory: &isDirectory)
            && isDirectory.boolValue
    }

    /// The names of the entries of a folder inside the policy folder, sorted, or
    /// `nil` when it does not exist.
    func entries(of relative: String) -> [String]? {
        let path = relative.isEmpty ? path : resolve(relative)
        return (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted()
    }

    /// Parses one policy file. A missing file is reported when `required`; a
    /// syntax error is reported at pointer `""` with jansson's line and column.
    func readJSON(_ file: String, required: Bool) -> JSONReader? {
        let location = PolicyLocation(file: file)
        guard let bytes = contents(of: file) else {
            if required { log.report(location, "file is missing") }
            return nil
        }
        do {
            let value = try JSONValue.parse(bytes, limits: .document)
            return JSONReader(value: value, location: location, log: log)
        } catch {
            log.report(location, Self.describe(error))
            return nil
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? JWTError else { return "cannot be read: \(error)" }
        switch error.code {
        case .duplicateKey: return "duplicate key: \(error.reason)"
        case .jsonTooDeep, .jsonTooLarge: return error.reason
        default: return "invalid JSON: \(error.reason)"
        }
    }
}
