import Foundation
import Testing

/// An upstream whose keep-alive connections go stale: on each connection it answers
/// the first request with a 200 that keeps the connection open (`Content-Length`, no
/// `Connection: close`), and when a second request arrives on that same connection
/// it closes the socket without answering, as a server does whose idle timeout ran
/// out just as the request was on its way. Python's standard library only, raw
/// sockets, run with `LINKGATE_PYTHON`.
///
/// `GET /__counts` (on a connection of its own) answers JSON: per method, the
/// requests `seen` (heads read), `answered` and `dropped` (closed on), and how
/// many `connections` brought a request.
final class StaleUpstream: PythonUpstream {

    struct Counts {
        let seen: [String: Int]
        let answered: [String: Int]
        let dropped: [String: Int]
        let connections: Int
    }

    init() async throws {
        try await super.init(script: Self.script, name: "stale upstream")
    }

    /// The upstream's counters now. Each is bumped before the answer (or the close) it
    /// counts is written, so whatever the gateway has answered is already counted.
    func counts() throws -> Counts {
        let json = try RawConnection.get(port: port, "/__counts").json
        return Counts(
            seen: json["seen"] as? [String: Int] ?? [:], answered: json["answered"] as? [String: Int] ?? [:],
            dropped: json["dropped"] as? [String: Int] ?? [:], connections: json["connections"] as? Int ?? -1)
    }

    static let script = #"""
        import json, socket, threading

        lock = threading.Lock()
        counts = {"seen": {}, "answered": {}, "dropped": {}, "connections": 0}

        def bump(kind, method):
            with lock:
                counts[kind][method] = counts[kind].get(method, 0) + 1

        def read_head(conn, buffer):
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return None
                buffer += data
            head, _, rest = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            return method, target, headers, rest

        def read_body(conn, headers, buffer):
            if "chunked" in headers.get("transfer-encoding", "").lower():
                while not buffer.endswith(b"0\r\n\r\n"):
                    data = conn.recv(65536)
                    if not data:
                        break
                    buffer += data
                return buffer, b""
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                data = conn.recv(65536)
                if not data:
                    break
                buffer += data
            return buffer[:length], buffer[length:]

        def answer(conn, body, close=False):
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            if close:
                head += "Connection: close\r\n"
            conn.sendall(head.encode() + b"\r\n" + body)

        def serve(conn):
            with conn:
                try:
                    conn.settimeout(30)
                    first = read_head(conn, b"")
                    if first is None:
                        return
                    method, target, headers, rest = first
                    if target == "/__counts":
                        with lock:
                            body = json.dumps(counts).encode()
                        answer(conn, body, close=True)
                        return
                    bump("seen", method)
                    with lock:
                        counts["connections"] += 1
                    body, rest = read_body(conn, headers, rest)
                    reply = json.dumps({"method": method, "target": target, "bodyBytes": len(body)}).encode()
                    bump("answered", method)
                    answer(conn, reply)
                    second = read_head(conn, rest)
                    if second is None:
                        return
                    bump("seen", second[0])
                    bump("dropped", second[0])
                    # Closed without an answer: the keep-alive connection was stale.
                except OSError:
                    pass

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        print("stale-upstream: listening on http://127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#
}
