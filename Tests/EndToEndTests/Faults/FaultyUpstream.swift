import Foundation
import Testing

/// An upstream that fails the way real ones do, chosen by the second segment of
/// the path it is sent (`/faulty/MODE/...`). Python's standard library only, raw
/// sockets, run with `LINKGATE_PYTHON`. Several requests may come on one
/// keep-alive connection; each is answered by its own mode:
///
/// - `ok`: a 200 with a small JSON body (`{"target": …}`), kept alive;
/// - `garbage`: bytes that are not HTTP (an SSH banner), then the connection closes;
/// - `stall`: reads the request and never answers, until the gateway hangs up;
/// - `stall-body`: a 200 head and 16 KiB of a 10 MiB body (`Content-Length`), then silence;
/// - `reset-length`, `reset-chunked`: a 200 head and 16 KiB of a 10 MiB body, framed by
///   `Content-Length` or chunked, then waits for `cut()` and resets the connection (RST).
///
/// The reset waits for the test, rather than for a fixed time, so that the gateway has
/// surely passed the head on before the connection goes (a reset may drop bytes the
/// gateway had not read yet). `GET /__cut` and `GET /__counts`, sent to the upstream
/// itself on a connection of their own, are its controls.
final class FaultyUpstream: PythonUpstream {
    /// The length a `reset-length` and `stall-body` answer announces.
    static let announcedLength = 10 * 1024 * 1024

    init() async throws {
        try await super.init(script: Self.script, name: "faulty upstream")
    }

    /// Resets every connection waiting in a `reset-*` mode; how many there were.
    func cut() throws -> Int {
        try control("/__cut")["cut"] as? Int ?? -1
    }

    /// `released`: stalled connections the gateway closed; `requests`: requests read.
    func counts() throws -> [String: Int] {
        try control("/__counts") as? [String: Int] ?? [:]
    }

    private func control(_ path: String) throws -> [String: Any] {
        try RawConnection.get(port: port, path).json
    }

    static let script = #"""
        import json, socket, struct, threading

        lock = threading.Lock()
        armed = []
        counts = {"requests": 0, "released": 0}

        def bump(name):
            with lock:
                counts[name] += 1

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
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                data = conn.recv(65536)
                if not data:
                    break
                buffer += data
            return buffer[length:]

        def answer_json(conn, value, close=False):
            body = json.dumps(value).encode()
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            if close:
                head += "Connection: close\r\n"
            conn.sendall(head.encode() + b"\r\n" + body)

        def wait_for_close(conn):
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass

        def partial_body(conn, chunked):
            piece = b"x" * 16384
            if chunked:
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                conn.sendall(head + b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10485760\r\n\r\n"
                conn.sendall(head + piece)

        def serve(conn):
            try:
                conn.settimeout(60)
                rest = b""
                while True:
                    first = read_head(conn, rest)
                    if first is None:
                        return
                    method, target, headers, rest = first
                    rest = read_body(conn, headers, rest)
                    if target == "/__cut":
                        with lock:
                            events = armed[:]
                            armed.clear()
                        for event in events:
                            event.set()
                        answer_json(conn, {"cut": len(events)}, close=True)
                        return
                    if target == "/__counts":
                        with lock:
                            value = dict(counts)
                        answer_json(conn, value, close=True)
                        return
                    bump("requests")
                    parts = target.split("/")
                    mode = parts[2] if len(parts) > 2 else ""
                    if mode == "ok":
                        answer_json(conn, {"target": target})
                        continue
                    if mode == "garbage":
                        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x01\xfe\xff not HTTP\r\n\r\n")
                        return
                    if mode == "stall":
                        wait_for_close(conn)
                        bump("released")
                        return
                    if mode == "stall-body":
                        partial_body(conn, chunked=False)
                        wait_for_close(conn)
                        bump("released")
                        return
                    if mode in ("reset-length", "reset-chunked"):
                        event = threading.Event()
                        with lock:
                            armed.append(event)
                        partial_body(conn, chunked=(mode == "reset-chunked"))
                        event.wait(30)
                        # SO_LINGER with a zero timeout: close() sends a reset, not a FIN.
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            finally:
                conn.close()

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        print("faulty-upstream: listening on http://127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#
}
