import Synchronization
import Testing

@testable import Gateway

@Suite("The access log: one line per request, written in batches")
struct AccessLogTests {
    final class Sink: Sendable {
        let writes = Mutex<[[UInt8]]>([])
        var text: String { writes.withLock { String(decoding: $0.joined(), as: UTF8.self) } }
        var count: Int { writes.withLock { $0.count } }
    }

    static func record(_ id: String) -> AccessRecord {
        var record = AccessRecord()
        record.requestId = id
        record.method = "GET"
        record.appKey = "com.example.reports"
        record.accountId = "app-reports"
        record.credential = "jwt"
        record.allowed = true
        record.route = "/rest/api/3/project/{projectIdOrKey}"
        record.status = 200
        record.latency = .microseconds(1_234)
        return record
    }

    @Test("the line has swift-log's shape: time, level, label, the fields by name, source and message")
    func line() throws {
        let sink = Sink()
        let log = AccessLog(output: { bytes in sink.writes.withLock { $0.append(bytes) } })
        log.write(Self.record("abc"))
        log.flush()
        let line = sink.text
        let afterTime = try #require(line.firstIndex(of: " "))
        #expect(line[..<afterTime].count == "2026-11-26T11:29:23+0000".count)
        #expect(
            line[afterTime...]
                == " info linkgate.access: app=com.example.reports auth=jwt latency_ms=1.234 method=GET reason=allowed "
                + "request_id=abc route=/rest/api/3/project/{projectIdOrKey} status=200 user=app-reports verdict=allow "
                + "[Gateway] request\n")
    }

    @Test("lines wait for a flush or a full batch: one write per 64 KiB, not one per request")
    func batches() {
        let sink = Sink()
        let log = AccessLog(output: { bytes in sink.writes.withLock { $0.append(bytes) } })
        for index in 0..<10 { log.write(Self.record("id-\(index)")) }
        #expect(sink.count == 0)
        log.flush()
        #expect(sink.count == 1)
        #expect(sink.text.split(separator: "\n").count == 10)
        for index in 0..<2_000 { log.write(Self.record("id-\(index)")) }
        #expect(sink.count > 1 && sink.count < 20, "about one write per 64 KiB, not per line")
        log.flush()
        #expect(sink.text.split(separator: "\n").count == 2_010)
    }

    @Test("a disabled access log (--log-level warning) writes nothing")
    func disabled() {
        let sink = Sink()
        let log = AccessLog(isEnabled: false, output: { bytes in sink.writes.withLock { $0.append(bytes) } })
        log.write(Self.record("abc"))
        log.flush()
        #expect(sink.count == 0)
    }

    @Test("request ids are 32 lowercase hex digits and do not repeat")
    func requestIds() {
        let ids = (0..<10_000).map { _ in RequestID.make() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
    }
}
