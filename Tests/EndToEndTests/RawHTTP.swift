import Foundation

/// Sends bytes exactly as written over a TCP connection to 127.0.0.1, for
/// requests an HTTP client library would repair first (a malformed `%`
/// escape, say). Reads until the server closes or `timeout` passes.
enum RawHTTP {
    struct Reply {
        let status: Int
        let text: String
    }

    static func send(port: Int, _ request: String, timeout: TimeInterval = 10) throws -> Reply {
        let fd = try connected(port: port, timeout: timeout)
        defer { close(fd) }
        write(fd, request)
        return reply(readAll(fd))
    }

    /// Sends a head with `Expect: 100-continue` and returns what the server said
    /// before the body was sent (within `wait` seconds), then sends the body and
    /// returns the final answer.
    static func expectContinue(
        port: Int, head: String, body: String, wait: TimeInterval = 2
    ) throws -> (interim: String, final: Reply) {
        let fd = try connected(port: port, timeout: wait)
        defer { close(fd) }
        write(fd, head)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        let interim = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        var time = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        write(fd, body)
        return (interim, reply(readAll(fd)))
    }

    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }

    private static func reply(_ received: [UInt8]) -> Reply {
        let text = String(decoding: received, as: UTF8.self)
        let statusLine = text.split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Reply(status: status, text: text)
    }

    private static func connected(port: Int, timeout: TimeInterval) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
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
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Opens a TCP connection to 127.0.0.1:`port` and closes it at once, without a byte;
    /// whether something accepted it.
    static func knock(port: Int) -> Bool {
        guard let fd = try? connected(port: port, timeout: 1) else { return false }
        close(fd)
        return true
    }

    /// A GET for `target` that closes the connection after the answer.
    static func get(port: Int, _ target: String) throws -> Reply {
        try send(port: port, "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
    }
}
