// The policy loader over a mutated folder (docs/testing.md, "Fuzzing"; docs/policies.md).
//
// The input is the folder's files one after the other, separated by lines `%%`, in
// the order of `files`; empty ones are not written. They go into a folder of this
// process under $TMPDIR (scripts/fuzz.sh: /dev/shm when it can), which
// `PolicyLoader.compile` then loads, checks and compiles.
// Beyond "no crash": a load that fails reports at least one problem, and what
// compiles also loads.
import Foundation
import Policy

private let files = [
    "gateway.json", "users.json", "permissions.json", "routes.json", "scopes.json",
    "apps/a.json", "apps/b.json", "keys/k.pem", "secret.txt",
]
private let folder = NSTemporaryDirectory() + "linkgate-fuzz-policy-\(getpid())"
private let environment = ["LINKGATE_FUZZ_SECRET": "fuzz-environment-secret-0123456789abcdef"]

func fuzzPolicyLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let manager = FileManager.default
    try? manager.removeItem(atPath: folder)
    for subfolder in ["apps", "keys"] {
        try? manager.createDirectory(atPath: folder + "/" + subfolder, withIntermediateDirectories: true)
    }
    for (name, contents) in zip(files, chunks(input)) where !contents.isEmpty {
        try? Data(contents).write(to: URL(fileURLWithPath: folder + "/" + name))
    }
    do {
        let policy = try PolicyLoader.compile(folder: folder, environment: environment)
        _ = policy
        guard (try? PolicyLoader.load(folder: folder, environment: environment)) != nil else {
            preconditionFailure("a folder that compiles does not load")
        }
    } catch {
        precondition(!error.problems.isEmpty, "a refused policy folder without a problem")
    }
    return 0
}

/// The input split at each line `%%`.
private func chunks(_ input: UnsafeBufferPointer<UInt8>) -> [ArraySlice<UInt8>] {
    let bytes = Array(input)
    let separator = Array("\n%%\n".utf8)
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    var index = 0
    while index + separator.count <= bytes.count {
        if bytes[index..<(index + separator.count)].elementsEqual(separator) {
            result.append(bytes[start..<index])
            index += separator.count
            start = index
        } else {
            index += 1
        }
    }
    result.append(bytes[start...])
    return result
}
