import Foundation

/// The shapes of the strings a policy holds: URLs, addresses, store URLs.
/// Each rule returns what is wrong, or `nil` when the value is fine.
enum ValueRules {
    /// An absolute `http` or `https` URL with a host and no fragment.
    static func httpURL(_ text: String) -> String? {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else { return "must be an absolute http or https URL" }
        guard scheme == "http" || scheme == "https" else { return "must be an http or https URL, not \(scheme)" }
        if url.fragment != nil { return "must not have a fragment" }
        return nil
    }

    /// A redirect URI or callback: absolute, `https`, or `http` only to this
    /// machine (RFC 8252 §7.3 loopback redirects), and no fragment (RFC 6749 §3.1.2).
    static func redirectURI(_ text: String) -> String? {
        if let problem = httpURL(text) { return problem }
        let url = URLComponents(string: text)!
        if url.scheme?.lowercased() == "http", !isLoopback(url.host ?? "") {
            return "must use https (http is allowed only for 127.0.0.1, [::1] and localhost)"
        }
        return nil
    }

    /// A Connect app's `baseUrl` (docs/connect-install.md): absolute, `https`, or
    /// `http` only to this machine (a shared secret is never sent over plain http
    /// elsewhere, docs/protocols.md §7), no query and no fragment.
    static func appBaseURL(_ text: String) -> String? {
        if let problem = httpURL(text) { return problem }
        let url = URLComponents(string: text)!
        if url.scheme?.lowercased() == "http", !isLoopback(url.host ?? "") {
            return "must use https: a shared secret is never sent over plain http "
                + "(http is allowed only for 127.0.0.1, [::1] and localhost)"
        }
        if url.query != nil { return "must not have a query" }
        return nil
    }

    /// A lifecycle path under an app's `baseUrl`: starts with one `/`, no fragment, no spaces.
    static func lifecyclePath(_ text: String) -> String? {
        guard text.hasPrefix("/"), !text.hasPrefix("//") else { return "must be a path starting with /" }
        if text.contains("#") { return "must not have a fragment" }
        if text.contains(where: { $0.isWhitespace || !$0.isASCII || $0.asciiValue! < 0x20 }) {
            return "must be written as a URL path (no spaces, control or non-ASCII characters)"
        }
        return nil
    }

    /// The URL with its trailing `/`s removed.
    static func withoutTrailingSlash(_ url: String) -> String {
        var url = Substring(url)
        while url.hasSuffix("/") { url = url.dropLast() }
        return String(url)
    }

    private static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host.lowercased())
    }

    /// `HOST:PORT`, the host a name, an IPv4 address or a bracketed IPv6 address;
    /// port 0 asks for an ephemeral port (tests use it).
    static func listenAddress(_ text: String) -> String? {
        let expected = "must be HOST:PORT, e.g. 127.0.0.1:8080"
        guard let colon = text.lastIndex(of: ":") else { return expected }
        let host = text[..<colon]
        let port = text[text.index(after: colon)...]
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number), port.allSatisfy(\.isASCII)
        else { return expected }
        if host.hasPrefix("[") { return host.hasSuffix("]") && host.count > 2 ? nil : expected }
        let allowed = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        return allowed ? nil : expected
    }

    /// `sqlite:PATH` or `postgres://user:pass@host:port/db` (also `postgresql://`).
    static func storeURL(_ text: String) -> String? {
        if text.hasPrefix("sqlite:") {
            return text.count > "sqlite:".count ? nil : "sqlite: needs a path, e.g. sqlite:var/linkgate.sqlite"
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
                return "must be postgres://user:password@host:port/database"
            }
            return nil
        }
        return "must be sqlite:PATH or postgres://user:password@host:port/database"
    }

    /// A PEM public key: an SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` block.
    /// The key itself is parsed where it is used; this catches a wrong file.
    static func publicKeyPEM(_ text: String) -> String? {
        let begins = ["-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----"]
        if text.contains("PRIVATE KEY-----") { return "holds a private key; give the public key only" }
        return begins.contains(where: text.contains) ? nil : "is not a PEM public key (no BEGIN PUBLIC KEY block)"
    }

    /// An RFC 9110 method token, upper case as the methods of RFC 9110 §9 are.
    static func method(_ text: String) -> String? {
        let valid = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0 == "-" || $0 == "_") }
        return valid ? nil : "must be an upper-case HTTP method such as GET"
    }
}
