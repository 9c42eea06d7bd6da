import Foundation

/// The repository's `policies/` folder, the site `make run` uses.
enum ExampleSite {
    static var folder: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("policies").path
    }
}
