import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import Gateway

@Suite("Request heads read as bytes: one reading, never more lenient than NIO's parser")
struct RawRequestHeadTests {
    static let simple =
        "GET /rest/api/2/issue/PROJ-1?expand=names&jwt=a.b.c HTTP/1.1\r\nHost: jira.example\r\n"
        + "Authorization: JWT x.y.z\r\nAccept:  */* \r\nX-Empty:\r\n\r\n"

    static func scan(_ text: String) -> RawRequestHead.Scan {
        RawRequestHead.scan(ByteBuffer(string: text))
    }

    @Test("a connection's list of fields serves its next head, and never changes a head still held")
    func reusedFieldList() throws {
        var storage: [RawRequestHead.Field] = []
        let limit = 64 * 1024
        guard
            case .head(let first, _) = RawRequestHead.scan(
                ByteBuffer(string: Self.simple), limit: limit, reusing: &storage)
        else {
            Issue.record("not a head")
            return
        }
        let names = first.fields.map { first.string($0.name) }
        #expect(names == ["Host", "Authorization", "Accept", "X-Empty"])
        // The first head is still held: the second gets a list of its own, and the first keeps its fields.
        let next = "GET /b HTTP/1.1\r\nHost: b\r\n\r\n"
        guard case .head(let second, _) = RawRequestHead.scan(ByteBuffer(string: next), limit: limit, reusing: &storage)
        else {
            Issue.record("not a head")
            return
        }
        #expect(second.fields.map { second.string($0.name) } == ["Host"])
        #expect(first.fields.map { first.string($0.name) } == names)
        // The list the connection keeps is the last head's.
        #expect(storage.count == 1)
        // A head of many fields leaves no large list behind.
        let many = "GET /c HTTP/1.1\r\nHost: c\r\n" + String(repeating: "a: 1\r\n", count: 100) + "\r\n"
        guard case .head(let large, _) = RawRequestHead.scan(ByteBuffer(string: many), limit: limit, reusing: &storage)
        else {
            Issue.record("not a head")
            return
        }
        #expect(large.fields.count == 101)
        #expect(storage.capacity == 0)
    }

    @Test("a head's parts are where the bytes have them; the value loses its surrounding spaces only")
    func parts() throws {
        guard case .head(let head, let length) = Self.scan(Self.simple + "GET /next HTTP/1.1\r\n") else {
            Issue.record("not a head")
            return
        }
        #expect(length == Self.simple.utf8.count)
        #expect(head.string(head.method) == "GET")
        #expect(head.string(head.target) == "/rest/api/2/issue/PROJ-1?expand=names&jwt=a.b.c")
        #expect(head.minorVersion == 1)
        #expect(head.fields.map { head.string($0.name) } == ["Host", "Authorization", "Accept", "X-Empty"])
        #expect(head.fields.map { head.string($0.value) } == ["jira.example", "JWT x.y.z", "*/*", ""])
        #expect(head.field(head.fields[1], isNamed: "authorization"))
        #expect(!head.field(head.fields[1], isNamed: "host"))
        #expect(head.contentLength == nil)
        #expect(head.transferEncodings.isEmpty)
    }

    @Test("framing fields: Content-Length once as digits, Transfer-Encoding kept for the shared rules")
    func framing() {
        guard case .head(let sized, _) = Self.scan("POST / HTTP/1.0\r\nHost: a\r\ncontent-LENGTH: 0042\r\n\r\n"),
            case .head(let chunked, _) = Self.scan(
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
        else {
            Issue.record("not heads")
            return
        }
        #expect(sized.contentLength == 42)
        #expect(sized.minorVersion == 0)
        #expect(chunked.transferEncodings.map { chunked.string($0.value) } == ["gzip", "chunked"])
    }

    @Test("every prefix of a head is incomplete, not refused")
    func prefixes() {
        let bytes = Array(Self.simple.utf8)
        for end in 0..<bytes.count {
            guard case .incomplete = RawRequestHead.scan(ByteBuffer(bytes: bytes[..<end])) else {
                Issue.record("the first \(end) bytes were not incomplete")
                return
            }
        }
    }

    @Test(
        "refused: what peers could read otherwise",
        arguments: [
            ("GET / HTTP/1.1\nHost: a\r\n\r\n", "bare LF after the request line"),
            ("GET / HTTP/1.1\r\nHost: a\n\r\n", "bare LF after a field"),
            ("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "bare CR in a value"),
            ("GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n", "bare CR at a line's start"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", "obs-fold"),
            ("GET / HTTP/1.1\r\nHost: a\r\n\tX: b\r\n\r\n", "a line starting with a tab"),
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "space before the colon"),
            ("GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n", "a quote in a name"),
            ("GET / HTTP/1.1\r\n: a\r\n\r\n", "an empty name"),
            ("GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", "NUL in a value"),
            ("GET / HTTP/1.1\r\nHost: a\u{7F}\r\n\r\n", "DEL in a value"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "two lengths"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", "a list of lengths"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", "a signed length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", "a length with a space inside"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", "an empty length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\t\r\n\r\n", "a tab after the length"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n", "a tab after the coding"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", "an empty last coding"),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", "an empty first coding"),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", "a length too long"),
            (
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                "a length and a coding"
            ),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/2.0"),
            ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", "HTTP/1.2"),
            ("GET / http/1.1\r\nHost: a\r\n\r\n", "a lowercase version"),
            ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "a space after the version"),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "two spaces"),
            ("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "a space in the target"),
            ("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", "a tab in the target"),
            ("GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", "DEL in the target"),
            ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "a method that is not a token"),
            (" GET / HTTP/1.1\r\nHost: a\r\n\r\n", "a space before the method"),
            ("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "an empty line before the request line"),
        ])
    func refused(head: String, what: String) {
        guard case .refused(.malformed) = Self.scan(head) else {
            Issue.record("\(what): not refused")
            return
        }
    }

    @Test("a head without its blank line within the limit is too large")
    func tooLarge() {
        let long = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 200)
        guard case .refused(.tooLarge) = RawRequestHead.scan(ByteBuffer(string: long), limit: 100) else {
            Issue.record("not too large")
            return
        }
        guard case .incomplete = RawRequestHead.scan(ByteBuffer(string: long), limit: 1000) else {
            Issue.record("not incomplete")
            return
        }
    }

    /// What NIO's own parser makes of `bytes`: the head, or nil when it refuses them.
    static func nio(_ bytes: [UInt8]) -> HTTPRequestHead? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish() }
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else { return nil }
            return head
        } catch {
            return nil
        }
    }

    /// NIO keeps the spaces after a value, which are not part of it (RFC 9110 §5.5).
    static func trailingSpacesCut(_ value: String) -> String {
        var utf8 = Substring(value).utf8
        while let last = utf8.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { utf8 = utf8.dropLast() }
        return String(Substring(utf8))
    }

    @Test("20,000 mutated heads: whatever is read as bytes, NIO's parser reads the same way")
    func neverMoreLenientThanNIO() {
        let bases = [
            Self.simple,
            "POST /a/b HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 3\r\nX-A: 1\r\n\r\nabc",
            "DELETE /x?y=%20z HTTP/1.0\r\nhost: h\r\nConnection: keep-alive\r\n\r\n",
            "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n0\r\n\r\n",
        ].map { Array($0.utf8) }
        let interesting: [UInt8] = [
            0x00, 0x09, 0x0A, 0x0D, 0x20, 0x22, 0x2C, 0x3A, 0x7F, 0x80, 0xFF, UInt8(ascii: "a"), UInt8(ascii: "0"),
            UInt8(ascii: "/"), UInt8(ascii: "H"),
        ]
        var random = SeededGenerator(seed: 0x5EED)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes = bases[round % bases.count]
            random.mutate(&bytes, with: interesting)
            guard case .head(let head, let length) = RawRequestHead.scan(ByteBuffer(bytes: bytes)) else { continue }
            // The target and the transfer codings are judged by the rules both paths share, as the gateway judges them.
            let line = try? RequestLine.parse(method: head.string(head.method), target: head.string(head.target))
            if line == nil { continue }
            let codings = head.transferEncodings.map { head.string($0.value) }
            if RequestFraming.problem(transferEncoding: codings) != nil { continue }
            // A method is a token here; NIO's parser knows a list of methods and refuses others.
            if case .RAW = HTTPMethod(rawValue: head.string(head.method)) { continue }
            accepted += 1
            // The head alone: what follows it is a body or the next request, read apart.
            guard let theirs = Self.nio(Array(bytes[..<length])) else {
                Issue.record(
                    "read as bytes, refused by NIO: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
                return
            }
            let ours = head.fields.map { (head.string($0.name), head.string($0.value)) }
            let agree =
                theirs.method.rawValue == head.string(head.method) && theirs.uri == head.string(head.target)
                && theirs.version.minor == head.minorVersion && theirs.headers.count == ours.count
                && zip(theirs.headers, ours).allSatisfy { $0.name == $1.0 && Self.trailingSpacesCut($0.value) == $1.1 }
            guard agree else {
                Issue.record(
                    """
                    read otherwise by NIO: \(String(decoding: bytes, as: UTF8.self).debugDescription)
                    NIO: \(theirs.method.rawValue) \(theirs.uri.debugDescription) \(theirs.version) \(Array(theirs.headers).map { "\($0.name.debugDescription)=\($0.value.debugDescription)" })
                    ours: \(ours.map { "\($0.0.debugDescription)=\($0.1.debugDescription)" })
                    """)
                return
            }
        }
        #expect(accepted > 2_000, "too few mutations were heads to compare: \(accepted)")
    }

    @Test("eight value bytes are taken at once only when each would be taken alone, and always then in ASCII")
    func eightVisibleBytes() {
        var random = SeededGenerator(seed: 0x7669_7369)
        // Visible ASCII mostly, with the bytes the reader treats otherwise, and obs-text.
        let special: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0xA0, 0xFF]
        for round in 0..<200_000 {
            var bytes = (0..<8).map { _ in UInt8(0x21 + random.next() % 0x5E) }
            for _ in 0..<(round % 4) { bytes[Int(random.next() % 8)] = special[Int(random.next() % 13)] }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let eachTaken = bytes.allSatisfy { $0 > 0x20 && $0 != 0x7F }
            let allASCII = bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            let taken = RawHeadReader.allVisible(word)
            #expect(!taken || eachTaken, "\(bytes)")
            #expect(taken || !allASCII, "\(bytes)")
        }
    }
}
