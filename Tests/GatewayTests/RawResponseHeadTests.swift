import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import Gateway

@Suite("Response heads and chunked bodies read as bytes: never read otherwise than NIO's parser")
struct RawResponseHeadTests {
    @Test("a status line, fields and the body's framing")
    func parts() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
        guard case .head(let head, let length) = RawResponseHead.scan(ByteBuffer(string: text)) else {
            Issue.record("not a head")
            return
        }
        #expect(length == text.utf8.count - 5)
        #expect(head.status == 200)
        #expect(head.minorVersion == 1)
        #expect(head.fields.map { head.string($0.name) } == ["Content-Type", "Content-Length"])
        #expect(head.bodyFraming(requestWasHead: false) == .length(5))
        #expect(head.bodyFraming(requestWasHead: true) == .none)
    }

    @Test(
        "framing by status, codings and length (RFC 9112 §6.3)",
        arguments: [
            ("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", ResponseBodyFraming.none),
            ("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", .none),
            ("HTTP/1.1 100 Continue\r\n\r\n", .none),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", .none),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .chunked),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .untilClose),
            ("HTTP/1.0 200 OK\r\n\r\n", .untilClose),
            ("HTTP/1.1 200 \r\nContent-Length: 7\r\n\r\n", .length(7)),
        ])
    func framing(text: String, framing: ResponseBodyFraming) {
        guard case .head(let head, _) = RawResponseHead.scan(ByteBuffer(string: text)) else {
            Issue.record("not a head: \(text.debugDescription)")
            return
        }
        #expect(head.bodyFraming(requestWasHead: false) == framing)
    }

    @Test(
        "refused status lines",
        arguments: [
            "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 200 O\u{0}K\r\n\r\n", "HTTP/1.1 200 OK\nX: y\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX : y\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        ])
    func refused(text: String) {
        guard case .refused = RawResponseHead.scan(ByteBuffer(string: text)) else {
            Issue.record("not refused: \(text.debugDescription)")
            return
        }
    }

    /// Runs a chunked body through the scanner in pieces of `step` bytes: what it
    /// took, its chunk data, the body's bytes without its trailer lines (as the byte
    /// path relays it), and whether it ended.
    static func scanChunked(
        _ bytes: [UInt8], step: Int
    ) throws -> (consumed: Int, data: [UInt8], relayed: [UInt8], done: Bool) {
        var scanner = ChunkedBodyScanner()
        var consumed = 0
        var data: [UInt8] = []
        var relayed: [UInt8] = []
        while consumed < bytes.count, !scanner.isDone {
            let piece = Array(bytes[consumed..<min(bytes.count, consumed + step)])
            var trailers: [Range<Int>] = []
            let used = try piece.withUnsafeBytes { raw in
                try scanner.consume(raw, data: { range in data += piece[range] }, trailer: { trailers.append($0) })
            }
            for kept in ByteExchange.runs(of: 0..<used, without: trailers) { relayed += piece[kept] }
            consumed += used
        }
        return (consumed, data, relayed, scanner.isDone)
    }

    @Test("a chunked body ends where its last chunk and trailers do, whatever the pieces it comes in")
    func chunkedPieces() throws {
        let body = Array("5\r\nhello\r\nA;name=\"v\"\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\nHTTP/1.1".utf8)
        for step in [1, 2, 3, 7, 64] {
            let scanned = try Self.scanChunked(body, step: step)
            #expect(scanned.done)
            #expect(scanned.consumed == body.count - "HTTP/1.1".utf8.count, "step \(step)")
            #expect(String(decoding: scanned.data, as: UTF8.self) == "hello0123456789")
        }
    }

    @Test("trailer lines are told apart from the rest of the body, whatever the pieces it comes in")
    func chunkedTrailers() throws {
        let chunks = "5;x=1\r\nhello\r\n0\r\n"
        let body = Array((chunks + "X-Sum: 1\r\nSet-Cookie: a=b; Path=/\r\n\r\nHTTP/1.1").utf8)
        for step in [1, 2, 3, 5, 11, 64] {
            let scanned = try Self.scanChunked(body, step: step)
            #expect(scanned.done)
            #expect(String(decoding: scanned.relayed, as: UTF8.self) == chunks + "\r\n", "step \(step)")
        }
        let bare = try Self.scanChunked(Array((chunks + "\r\n").utf8), step: 3)
        #expect(String(decoding: bare.relayed, as: UTF8.self) == chunks + "\r\n")
    }

    @Test("the runs of a range outside the parts cut from it")
    func runsWithout() {
        #expect(ByteExchange.runs(of: 0..<10, without: []) == [0..<10])
        #expect(ByteExchange.runs(of: 0..<10, without: [0..<3, 5..<6]) == [3..<5, 6..<10])
        #expect(ByteExchange.runs(of: 0..<10, without: [2..<10]) == [0..<2])
        #expect(ByteExchange.runs(of: 0..<10, without: [0..<10]).isEmpty)
    }

    @Test("a body goes out in the head's buffer only when it is framed by length, small and whole")
    func wholeSmallBody() {
        let limit = ByteExchange.coalescedBodyLimit
        let rest = ByteBuffer(repeating: 0x61, count: limit + 10)
        #expect(ByteExchange.wholeSmallBody(.length(5), rest: rest) == 5)
        #expect(ByteExchange.wholeSmallBody(.length(limit), rest: rest) == limit)
        #expect(ByteExchange.wholeSmallBody(.length(limit + 1), rest: rest) == nil, "too large to copy")
        #expect(ByteExchange.wholeSmallBody(.length(5), rest: ByteBuffer(string: "abcd")) == nil, "not whole yet")
        #expect(ByteExchange.wholeSmallBody(.length(0), rest: rest) == nil)
        for framing in [ResponseBodyFraming.none, .chunked, .untilClose] {
            #expect(ByteExchange.wholeSmallBody(framing, rest: rest) == nil)
        }
    }

    @Test(
        "refused chunked bodies",
        arguments: [
            "5\r\nhelloX\r\n0\r\n\r\n", "\r\n", "G\r\n", "5 \r\nhello\r\n0\r\n\r\n", "5\rhello",
            "1000000000000000\r\n", "0\r\n X: y\r\n\r\n", "0\r\nX: \u{1}\r\n\r\n", "0\r\n\rx",
            "0;\r\n\r\n", "0;a=\r\n\r\n", "0; a=b\r\n\r\n", "0\r\n: t\r\n\r\n", "0\r\nX : t\r\n\r\n",
        ])
    func chunkedRefused(text: String) {
        #expect(throws: ChunkedBodyScanner.Refusal.self) { try Self.scanChunked(Array(text.utf8), step: 4) }
    }

    /// What NIO's client parser reads in `bytes` (answers to two GET requests): the
    /// first answer's head and body, and the second answer's status; nil if it refuses them.
    static func nio(_ bytes: [UInt8]) -> (HTTPResponseHead, [UInt8], Int)? {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            for _ in 0..<2 {
                try channel.writeOutbound(
                    HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
                try channel.writeOutbound(HTTPClientRequestPart.end(nil))
            }
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            var parts: [HTTPClientResponsePart] = []
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) { parts.append(part) }
            guard case .head(let first) = parts.first else { return nil }
            var body: [UInt8] = []
            var index = 1
            while index < parts.count, case .body(let buffer) = parts[index] {
                body += Array(buffer.readableBytesView)
                index += 1
            }
            guard index + 1 < parts.count, case .end = parts[index], case .head(let second) = parts[index + 1] else {
                return nil
            }
            return (first, body, Int(second.status.code))
        } catch {
            return nil
        }
    }

    @Test("30,000 mutated answers: whatever is read as bytes, NIO's parser reads the same way")
    func neverOtherwiseThanNIO() throws {
        let bases = [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;e=1\r\nabc\r\n0\r\nT: t\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n",
        ].map { Array($0.utf8) }
        let marker = Array("HTTP/1.1 299 Marker\r\nContent-Length: 0\r\n\r\n".utf8)
        let interesting: [UInt8] = [
            0x00, 0x09, 0x0A, 0x0D, 0x20, 0x2C, 0x3A, 0x3B, 0x7F, 0x80, UInt8(ascii: "a"), UInt8(ascii: "0"),
            UInt8(ascii: "5"), UInt8(ascii: "F"),
        ]
        var random = SeededGenerator(seed: 0xA115)
        var compared = 0
        for round in 0..<30_000 {
            var bytes = bases[round % bases.count]
            random.mutate(&bytes, with: interesting)
            bytes += marker
            guard case .head(let head, let length) = RawResponseHead.scan(ByteBuffer(bytes: bytes)) else { continue }
            // After an HTTP/1.0 answer NIO's parser expects the connection to close: no second answer to find.
            if head.minorVersion == 0 { continue }
            let rest = Array(bytes[length...])
            let data: [UInt8]
            let end: Int
            switch head.bodyFraming(requestWasHead: false) {
            case .none: (data, end) = ([], 0)
            case .length(let count):
                guard count <= rest.count else { continue }
                (data, end) = (Array(rest[..<count]), count)
            case .chunked:
                guard let scanned = try? Self.scanChunked(rest, step: 5), scanned.done else { continue }
                (data, end) = (scanned.data, scanned.consumed)
            case .untilClose: continue
            }
            // Where this answer ends, the next must begin: the marker, read by the same reader.
            guard case .head(let next, _) = RawResponseHead.scan(ByteBuffer(bytes: rest[end...])), next.status == 299
            else { continue }
            compared += 1
            let shown = String(decoding: bytes, as: UTF8.self).debugDescription
            guard let (theirs, body, next) = Self.nio(bytes) else {
                Issue.record("read as bytes, refused by NIO: \(shown)")
                return
            }
            let ours = head.fields.map { (head.string($0.name), head.string($0.value)) }
            let agree =
                Int(theirs.status.code) == head.status && theirs.version.minor == head.minorVersion
                && theirs.headers.count == ours.count
                && zip(theirs.headers, ours).allSatisfy {
                    $0.name == $1.0 && RawRequestHeadTests.trailingSpacesCut($0.value) == $1.1
                }
                && body == data && next == 299
            guard agree else {
                Issue.record("read otherwise by NIO: \(shown); NIO: \(theirs), body \(body.count) bytes, next \(next)")
                return
            }
        }
        #expect(compared > 2_000, "too few mutations were answers to compare: \(compared)")
    }
}
