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
            record.appendLine(stamp: state.stamp, to: &state.buffer)
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
    /// `<stamp> info linkgate.access: app=… … verdict=… [Gateway] request\n`: the
    /// fields in the order of their names, as swift-log prints metadata. The line
    /// is put together in scratch space with plain stores and appended to `buffer`
    /// in one piece: one check of the array's storage a line, not one a piece.
    /// The scratch space's closure reads the record through a pointer: a closure
    /// over `self` copied it (a retain and a release of each string).
    func appendLine(stamp: [UInt8], to buffer: inout [UInt8]) {
        withUnsafePointer(to: self) { record in
            Self.appendLine(record, stamp: stamp, to: &buffer)
        }
    }

    private static func appendLine(
        _ record: UnsafePointer<AccessRecord>, stamp: [UInt8], to buffer: inout [UInt8]
    ) {
        withUnsafeTemporaryAllocation(byteCount: record.pointee.lineCapacity(stamp: stamp), alignment: 1) { scratch in
            var line = LineWriter(scratch)
            line.write(stamp)
            line.write(" info linkgate.access:")
            line.write(" app=", record.pointee.appKey ?? "-")
            line.write(" auth=", record.pointee.credential)
            line.write(" latency_ms=")
            line.writeMilliseconds(record.pointee.latency)
            line.write(" method=", record.pointee.method)
            if let mode = record.pointee.mode { line.write(" mode=", mode) }
            line.write(" reason=", record.pointee.reason)
            line.write(" request_id=", record.pointee.requestId)
            line.write(" route=", record.pointee.route ?? "-")
            line.write(" status=")
            line.writeDecimal(UInt64(max(0, record.pointee.status)))
            line.write(" user=", record.pointee.accountId ?? "-")
            line.write(" verdict=", record.pointee.allowed ? "allow" : "deny")
            line.write(" [Gateway] request\n")
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<line.count]))
        }
    }

    /// Room for the longest line these values make: the names and the fixed text
    /// take under 200 bytes, a number at most 24.
    private func lineCapacity(stamp: [UInt8]) -> Int {
        stamp.count + 256 + (appKey?.utf8.count ?? 1) + credential.utf8.count + method.utf8.count
            + (mode?.utf8.count ?? 0) + reason.utf8.count + requestId.utf8.count + (route?.utf8.count ?? 1)
            + (accountId?.utf8.count ?? 1)
    }
}

/// Writes a line into scratch space sized for it (`AccessRecord.lineCapacity`).
struct LineWriter {
    private let out: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

    mutating func write(_ byte: UInt8) {
        precondition(count < out.count, "access line longer than its room")
        out[count] = byte
        count += 1
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= out.count - count, "access line longer than its room")
        UnsafeMutableRawBufferPointer(rebasing: out[count..<count + bytes.count]).copyMemory(from: bytes)
        count += bytes.count
    }

    mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// ` name=` and the value's bytes, read in place where they are contiguous.
    mutating func write(_ name: StaticString, _ value: String) {
        write(name)
        if value.utf8.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) == nil {
            for byte in value.utf8 { write(byte) }
        }
    }

    /// `12.345`: milliseconds with three decimals.
    mutating func writeMilliseconds(_ duration: Duration) {
        let microseconds = UInt64(max(0, duration.nanoseconds / 1_000))
        writeDecimal(microseconds / 1_000)
        write(UInt8(ascii: "."))
        let fraction = microseconds % 1_000
        write(UInt8(ascii: "0") + UInt8(fraction / 100))
        write(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        write(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// The decimal digits of `value`.
    mutating func writeDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        repeat {
            write(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }
}
