import Synchronization

#if canImport(Glibc)
import Glibc

private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin

private let systemWrite = Darwin.write
#endif

/// The access log: one line per request (docs/gateway.md §8, "Access log"),
/// formatted straight into a buffer and written in batches, when the buffer
/// reaches `batchBytes` or when `AccessLogFlusher` flushes it (every 100 ms, and
/// at shutdown), never one write per request.
///
/// The line has the shape swift-log's stream handler gives every other log line:
/// `<time> info linkgate.access: app=… auth=… … verdict=… [Gateway] request`.
final class AccessLog: Sendable {
    /// Where the batches go: standard output by default.
    typealias Output = @Sendable ([UInt8]) -> Void

    static let batchBytes = 64 * 1024

    private struct State {
        var buffer: [UInt8] = []
        /// The second the cached timestamp is for, and its text.
        var second: Int = -1
        var stamp: [UInt8] = []
    }

    private let state = Mutex(State())
    private let output: Output
    /// Whether lines are kept: the access log is at `info`; `--log-level warning` turns it off.
    let isEnabled: Bool

    init(isEnabled: Bool = true, output: @escaping Output = AccessLog.standardOutput) {
        self.isEnabled = isEnabled
        self.output = output
    }

    /// Adds the line of `record`; writes the batch when it is full.
    func write(_ record: AccessRecord) {
        guard isEnabled else { return }
        let now = time(nil)
        let full: [UInt8]? = state.withLock { state in
            if state.second != now {
                state.second = now
                state.stamp = Self.timestamp(now)
            }
            if state.buffer.capacity == 0 { state.buffer.reserveCapacity(Self.batchBytes + 1024) }
            state.buffer += state.stamp
            record.appendLine(to: &state.buffer)
            guard state.buffer.count >= Self.batchBytes else { return nil }
            return Self.take(&state.buffer)
        }
        if let full { output(full) }
    }

    /// Writes what is buffered.
    func flush() {
        let pending = state.withLock { Self.take(&$0.buffer) }
        if !pending.isEmpty { output(pending) }
    }

    private static func take(_ buffer: inout [UInt8]) -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &buffer)
        return taken
    }

    /// `2026-11-26T11:29:23+0000`, local time, as swift-log's stream handler writes it.
    static func timestamp(_ seconds: Int) -> [UInt8] {
        var seconds = seconds
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return Array("<unknown>".utf8) }
        var text = [CChar](repeating: 0, count: 64)
        let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return text.prefix(length).map { UInt8(bitPattern: $0) }
    }

    /// One unbuffered `write(2)` per batch, retried until all of it is written.
    static let standardOutput: Output = { bytes in
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(1, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0, errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

extension AccessRecord {
    /// ` info linkgate.access: app=… … verdict=… [Gateway] request\n`: the fields in
    /// the order of their names, as swift-log prints metadata.
    func appendLine(to buffer: inout [UInt8]) {
        buffer += Self.prefix
        append("app", appKey ?? "-", to: &buffer)
        append("auth", credential, to: &buffer)
        appendName("latency_ms", to: &buffer)
        Self.appendMilliseconds(latency, to: &buffer)
        append("method", method, to: &buffer)
        if let mode { append("mode", mode, to: &buffer) }
        append("reason", reason, to: &buffer)
        append("request_id", requestId, to: &buffer)
        append("route", route ?? "-", to: &buffer)
        appendName("status", to: &buffer)
        Self.appendDecimal(max(0, status), to: &buffer)
        append("user", accountId ?? "-", to: &buffer)
        append("verdict", allowed ? "allow" : "deny", to: &buffer)
        buffer += Self.suffix
    }

    private static let prefix = Array(" info linkgate.access:".utf8)
    private static let suffix = Array(" [Gateway] request\n".utf8)

    private func append(_ name: StaticString, _ value: String, to buffer: inout [UInt8]) {
        appendName(name, to: &buffer)
        // Copied in one piece where the bytes are contiguous (a native string's are).
        if value.utf8.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer += value.utf8
        }
    }

    /// ` name=`.
    private func appendName(_ name: StaticString, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        buffer.append(UInt8(ascii: "="))
    }

    /// Appends `12.345`: milliseconds with three decimals, with no string made on the way.
    static func appendMilliseconds(_ duration: Duration, to buffer: inout [UInt8]) {
        let microseconds = max(0, duration.nanoseconds / 1_000)
        appendDecimal(Int(microseconds / 1_000), to: &buffer)
        buffer.append(UInt8(ascii: "."))
        let fraction = Int(microseconds % 1_000)
        buffer.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        buffer.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        buffer.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// Appends the decimal digits of `value`, which is not negative.
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while value / divisor >= 10 { divisor *= 10 }
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }
}
