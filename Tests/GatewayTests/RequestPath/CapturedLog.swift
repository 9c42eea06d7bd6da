import Synchronization

@testable import Gateway

/// The access log kept in memory, for assertions: the real `AccessLog`, whose
/// batches land here instead of on standard output, read back as lines of
/// `name=value` fields.
final class CapturedLog: Sendable {
    struct Line: Sendable {
        let text: String
        let metadata: [String: String]
    }

    private final class Batches: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    private let batches = Batches()
    let log: AccessLog

    init() {
        let batches = self.batches
        log = AccessLog(output: { bytes in batches.bytes.withLock { $0 += bytes } })
    }

    /// Every line written so far (the pending batch is flushed first).
    var all: [Line] {
        log.flush()
        let text = batches.bytes.withLock { String(decoding: $0, as: UTF8.self) }
        return text.split(separator: "\n").map { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
            }
            return Line(text: String(line), metadata: fields)
        }
    }
}
