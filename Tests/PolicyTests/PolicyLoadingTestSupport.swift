import Foundation
import Testing

@testable import Policy

/// Policy folders for the loader's tests: the example site, and temporary
/// copies of `Fixtures/minimal` with some files replaced.
enum PolicyFixtures {
    static var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    /// The repository's `policies/` folder, the site `make run` uses.
    static var exampleSite: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("policies").path
    }

    /// A fresh copy of `Fixtures/minimal`, then the files of `Fixtures/broken/<overlay>`
    /// laid over it, then `files` (a `nil` content removes the file).
    static func folder(overlay: String? = nil, files: [String: String?] = [:]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let manager = FileManager.default
        try manager.removeItem(atPath: folder.path)
        try manager.copyItem(at: fixtures.appendingPathComponent("minimal"), to: URL(fileURLWithPath: folder.path))
        if let overlay {
            let source = fixtures.appendingPathComponent("broken").appendingPathComponent(overlay)
            for case let relative as String in manager.enumerator(atPath: source.path)! {
                let from = source.appendingPathComponent(relative)
                var isDirectory: ObjCBool = false
                _ = manager.fileExists(atPath: from.path, isDirectory: &isDirectory)
                if !isDirectory.boolValue { try folder.write(relative, String(contentsOf: from, encoding: .utf8)) }
            }
        }
        for (relative, content) in files {
            if let content { try folder.write(relative, content) } else { try folder.remove(relative) }
        }
        return folder
    }

    /// The problems loading `path` reports; empty when it loads.
    static func problems(_ path: String, environment: [String: String] = [:]) -> [PolicyProblem] {
        do {
            _ = try PolicyLoader.load(folder: path, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }
}

/// A folder under the system's temporary directory, removed when released.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "linkgate-policy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ content: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: url, atomically: true, encoding: .utf8)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + relative)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
