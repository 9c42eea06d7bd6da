/// A `HOST:PORT` to listen on (`127.0.0.1:8080`, `[::1]:8080`, `localhost:0`).
/// Port 0 asks the system for a free port; the startup line prints the real one.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let host: String
    public let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(Problem) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw Problem(description: "\"\(text)\" is not HOST:PORT (an IPv6 host is written [::1]:8080)")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw Problem(description: "\"\(text)\" is not HOST:PORT (for example 127.0.0.1:8080)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty else {
            throw Problem(description: "\"\(text)\" has no host (for example 127.0.0.1:8080)")
        }
        guard let port = Int(portPart), (0...65_535).contains(port) else {
            throw Problem(description: "\"\(text)\" has no port between 0 and 65535")
        }
        self.init(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
