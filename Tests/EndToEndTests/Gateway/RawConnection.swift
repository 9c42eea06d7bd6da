import Foundation

/// One TCP connection to 127.0.0.1 that a test keeps open: bytes go out exactly as
/// written, and HTTP/1.1 responses are read back one at a time, each framed by its
/// `Content-Length`, its chunked coding or the end of the connection, so that
/// pipelined answers and interim `100 Continue`s can be told apart. Every read
/// waits at most until a deadline (`poll`), never for ever.
final class RawConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// One response as received: status line, header fields in order, the body without its framing.
    struct Response: CustomStringConvertible {
        let status: Int
        let headers: [(name: String, value: String)]
        let body: [UInt8]
        /// A chunked body's trailer lines, as received.
        var trailers: [String] = []

        /// The values of a header field, by name in any case.
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        /// Whether the response says the connection closes after it (`Connection: close`).
        var closesConnection: Bool {
            header("Connection").contains { value in
                value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
            }
        }

        var text: String { String(decoding: body, as: UTF8.self) }

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
        }

        var description: String {
            "\(status) \(headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ")) | \(text.prefix(300))"
        }
    }

    private let fd: Int32
    /// Received and not yet consumed.
    private var pending: [UInt8] = []
    /// The server closed its side (a read returned 0) or reset the connection.
    private(set) var peerClosed = false
    private var closed = false

    /// - Parameter receiveBuffer: a fixed `SO_RCVBUF` (bytes) instead of the kernel's autotuned one,
    ///   so that a client that stops reading stops taking bytes soon.
    /// `GET path` on a connection of its own, which closes after the answer: a
    /// test server's control request (its counters, say).
    static func get(port: Int, _ path: String) throws -> Response {
        let connection = try RawConnection(port: port)
        try connection.write("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return try connection.readResponse()
    }

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let isConnected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard isConnected else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close() }

    /// Closes the socket now, as a client that goes away does: with bytes received and
    /// not read, the server's side sees a reset. Later reads and writes fail.
    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    // MARK: Writing

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Writes every byte (the socket blocks while the peer's window is full); never raises SIGPIPE.
    func write(_ bytes: [UInt8]) throws {
        guard !closed else { throw Failure(description: "write on a closed connection") }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "write failed after \(offset) of \(bytes.count) bytes: errno \(errno)")
            }
            offset += sent
        }
    }

    // MARK: Reading

    /// Reads what has arrived into `pending`, waiting at most until `deadline`.
    /// - Returns: false at the deadline with nothing new, or once the peer has closed.
    private func fill(until deadline: Date) -> Bool {
        guard !peerClosed, !closed else { return false }
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return false }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 {
                pending += chunk[0..<count]
                return true
            }
            if count < 0 && errno == EINTR { continue }
            peerClosed = true
            return false
        }
    }

    /// Removes and returns the first `count` pending bytes, reading more as needed.
    private func take(_ count: Int, until deadline: Date, what: @autoclosure () -> String) throws -> [UInt8] {
        while pending.count < count {
            guard fill(until: deadline) else { throw ended(what()) }
        }
        defer { pending.removeFirst(count) }
        return Array(pending[0..<count])
    }

    /// Removes and returns one line (without its CRLF), reading more as needed.
    private func line(until deadline: Date, what: @autoclosure () -> String) throws -> String {
        while true {
            if let end = Self.crlf(in: pending) {
                defer { pending.removeFirst(end + 2) }
                return String(decoding: pending[0..<end], as: UTF8.self)
            }
            guard fill(until: deadline) else { throw ended(what()) }
        }
    }

    private static func crlf(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 13 && bytes[index + 1] == 10 { return index }
        return nil
    }

    private func ended(_ what: String) -> Failure {
        Failure(
            description: peerClosed
                ? "the server closed the connection before \(what)" : "timed out waiting for \(what)")
    }

    /// Whether a response has begun to arrive (some byte is pending or arrives within `timeout` seconds).
    func hasData(within timeout: TimeInterval) -> Bool {
        if !pending.isEmpty { return true }
        _ = fill(until: Date().addingTimeInterval(timeout))
        return !pending.isEmpty
    }

    /// The status line and header fields of the next response, its body left unread.
    func readHead(timeout: TimeInterval = 5) throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        let statusLine = try line(until: deadline, what: "a status line")
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "not a status line: \(statusLine.prefix(200))")
        }
        var headers: [(String, String)] = []
        while true {
            let field = try line(until: deadline, what: "the header fields of a \(status)")
            if field.isEmpty { break }
            guard let colon = field.firstIndex(of: ":") else {
                throw Failure(description: "not a header field: \(field.prefix(200))")
            }
            headers.append(
                (
                    String(field[..<colon]),
                    field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                ))
        }
        return Response(status: status, headers: headers, body: [])
    }

    /// The next whole response: head, then the body framed as RFC 9112 §6.3 says (no body
    /// for 1xx, 204 and 304, or when `noBody`, as for HEAD).
    func readResponse(timeout: TimeInterval = 5, noBody: Bool = false) throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        let head = try readHead(timeout: timeout)
        if noBody || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 { return head }
        let body: [UInt8]
        var trailers: [String] = []
        let what = "the body of a \(head.status)"
        if head.header("Transfer-Encoding").joined(separator: ",").lowercased().contains("chunked") {
            var chunks: [UInt8] = []
            while true {
                let sizeLine = try line(until: deadline, what: what)
                let digits = sizeLine.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(digits, radix: 16) else {
                    throw Failure(description: "not a chunk size: \(sizeLine.prefix(100))")
                }
                if size == 0 {
                    while case let trailer = try line(until: deadline, what: what), !trailer.isEmpty {
                        trailers.append(trailer)
                    }
                    break
                }
                chunks += try take(size, until: deadline, what: what)
                guard try line(until: deadline, what: what).isEmpty else {
                    throw Failure(description: "a chunk of \(size) bytes is not followed by CRLF")
                }
            }
            body = chunks
        } else if let length = head.header("Content-Length").first.flatMap({ Int($0) }) {
            body = try take(length, until: deadline, what: what)
        } else {
            while fill(until: deadline) {}
            guard peerClosed else { throw ended(what + " (until the end of the connection)") }
            body = pending
            pending = []
        }
        return Response(status: head.status, headers: head.headers, body: body, trailers: trailers)
    }

    /// The next `count` whole responses (to pipelined requests), each within `timeout`.
    /// - Throws: a failure naming which response did not come, and the ones before it.
    func readResponses(_ count: Int, timeout: TimeInterval = 10) throws -> [Response] {
        var responses: [Response] = []
        for index in 0..<count {
            do {
                responses.append(try readResponse(timeout: timeout))
            } catch {
                throw Failure(description: "response \(index + 1) of \(count): \(error); before it: \(responses)")
            }
        }
        return responses
    }

    /// Reads and drops `count` raw bytes (a body whose head was read with `readHead`).
    func skip(_ count: Int, timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var left = count
        while left > 0 {
            if pending.isEmpty { guard fill(until: deadline) else { throw ended("\(left) more body bytes") } }
            let used = min(left, pending.count)
            pending.removeFirst(used)
            left -= used
        }
    }

    /// Waits at most `timeout` seconds for the server to close the connection, dropping
    /// whatever it sends meanwhile; whether it closed.
    func waitForClose(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !peerClosed {
            pending = []
            guard fill(until: deadline) || peerClosed else { return false }
        }
        return true
    }

    /// Everything the server sends until it closes the connection, at most `timeout` seconds
    /// from now; nil if it was still open then.
    func readToEnd(timeout: TimeInterval) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while fill(until: deadline) {}
        guard peerClosed else { return nil }
        defer { pending = [] }
        return pending
    }

    /// What was received but not consumed by any read.
    var unread: String { String(decoding: pending, as: UTF8.self) }
}
