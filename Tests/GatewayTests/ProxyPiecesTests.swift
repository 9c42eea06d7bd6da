import HTTPTypes
import JWT
import NIOCore
import NIOHTTP1
import Policy
import Scopes
import Testing

@testable import Gateway

@Suite("The proxy's pure pieces: credentials, query rewriting, headers, addresses, refusals")
struct ProxyPiecesTests {
    // MARK: Credentials

    @Test("one Authorization header or one jwt parameter is found, by scheme, case-insensitively")
    func findsCredentials() throws {
        #expect(try PresentedCredential.find(authorization: [], rawQuery: nil) == .none)
        #expect(
            try PresentedCredential.find(authorization: ["JWT a.b.c"], rawQuery: nil)
                == .connectJWT("a.b.c", fromQuery: false))
        #expect(
            try PresentedCredential.find(authorization: ["jwt   a.b.c  "], rawQuery: nil)
                == .connectJWT("a.b.c", fromQuery: false))
        #expect(try PresentedCredential.find(authorization: ["Bearer t"], rawQuery: nil) == .bearer("t"))
        #expect(try PresentedCredential.find(authorization: ["bEaReR t"], rawQuery: nil) == .bearer("t"))
        #expect(try PresentedCredential.find(authorization: ["OAUTH x"], rawQuery: nil) == .oauth1("x"))
        #expect(try PresentedCredential.find(authorization: ["basic dTpw"], rawQuery: nil) == .basic("dTpw"))
        #expect(
            try PresentedCredential.find(authorization: ["OAuth oauth_token=\"x\""], rawQuery: nil)
                == .oauth1("oauth_token=\"x\""))
        #expect(
            try PresentedCredential.find(authorization: [], rawQuery: "a=1&jwt=x.y.z")
                == .connectJWT("x.y.z", fromQuery: true))
        #expect(
            try PresentedCredential.find(authorization: [], rawQuery: "%6Awt=x.y.z")
                == .connectJWT("x.y.z", fromQuery: true))
        #expect(
            try PresentedCredential.find(authorization: [], rawQuery: "JWT=x.y.z&jwtx=1") == .none,
            "JWT= and jwtx= are ordinary parameters")
    }

    @Test("two credentials, an oversized token, an empty one or an unknown scheme are refused with the right status")
    func refusesCredentials() {
        func status(_ authorization: [Substring], _ query: Substring? = nil) -> Int? {
            do {
                _ = try PresentedCredential.find(authorization: authorization, rawQuery: query)
                return nil
            } catch { return error.status }
        }
        #expect(status(["JWT a", "JWT b"]) == 400)
        #expect(status(["JWT a"], "jwt=b") == 400)
        #expect(status([], "jwt=a&jwt=b") == 400)
        #expect(status([Substring("JWT " + String(repeating: "a", count: 8193))]) == 400)
        #expect(status([Substring("JWT " + String(repeating: "a", count: 8192))]) == nil)
        #expect(status(["JWT "]) == 401)
        #expect(status(["Negotiate abc"]) == 401)
        // A scheme is the whole word, in ASCII: longer, shorter or a lookalike letter is another scheme.
        #expect(status(["JWTX a.b.c"]) == 401)
        #expect(status(["Bearerx t"]) == 401)
        #expect(status(["JW a.b.c"]) == 401)
        #expect(status(["J\u{1D42}T a.b.c"]) == 401)
        #expect(status(["\u{212A}basic dTpw"]) == 401)
        #expect(status([], "jwt=%zz") == 400)
    }

    @Test(
        "the scheme and token are cut at blanks in place: tabs and spaces around either, a token with inner blanks, a substring of a longer string"
    )
    func splitsSchemeAndToken() throws {
        #expect(try PresentedCredential.parse(header: "\t JWT \t a.b.c \t") == .connectJWT("a.b.c", fromQuery: false))
        #expect(try PresentedCredential.parse(header: "OAuth a=\"1\", b=\"2\"") == .oauth1("a=\"1\", b=\"2\""))
        let line = "Authorization: Bearer tok\u{E9}n  "
        let value = line[line.index(line.startIndex, offsetBy: 15)...]
        #expect(try PresentedCredential.parse(header: value) == .bearer("tok\u{E9}n"))
        #expect(throws: GatewayError.self) { try PresentedCredential.parse(header: "Bearer") }
        #expect(throws: GatewayError.self) { try PresentedCredential.parse(header: "") }
        do {
            _ = try PresentedCredential.parse(header: "  N\u{E9}gotiate abc")
            Issue.record("an unknown scheme was accepted")
        } catch {
            #expect(error.status == 401 && error.message.contains("\"N\u{E9}gotiate\""))
        }
    }

    // MARK: Query

    @Test("removing jwt keeps every other parameter byte for byte, in order")
    func removesJWT() {
        #expect(QueryParameters.removingJWT(from: "a=1&jwt=x&b=%20+&c") == "a=1&b=%20+&c")
        #expect(QueryParameters.removingJWT(from: "jwt=x") == "")
        #expect(QueryParameters.removingJWT(from: "%6awt=x&JWT=y") == "JWT=y")
        #expect(QueryParameters.removingJWT(from: "a=1&&b=2") == "a=1&&b=2", "untouched when there is no jwt")
        #expect(QueryParameters.removingJWT(from: "a=1&&jwt=2&b") == "a=1&&b")
        // Found by `make fuzz`: split as characters, U+0600 and the `&` after it were one.
        #expect(Array(QueryParameters.removingJWT(from: "a=\u{600}&jwt=x").utf8) == Array("a=\u{600}".utf8))
    }

    @Test("the target splits at the ? byte: a combining mark after it stays in the query")
    func splitsTargetAtQuestionMarkByte() throws {
        // Found by `make fuzz`: stepping over the `?` character dropped the U+0301 after it.
        let line = try RequestLine.parse(method: "GET", target: "/p?\u{301}a=1")
        #expect(Array(line.rawPath.utf8) == Array("/p".utf8))
        #expect(line.rawQuery.map { Array($0.utf8) } == Array("\u{301}a=1".utf8))
    }

    @Test("percent-encoding is well formed only with two hex digits after each %")
    func percentEncoding() {
        #expect(QueryParameters.isWellFormed("a=%20&b=%7e"))
        #expect(!QueryParameters.isWellFormed("a=%2"))
        #expect(!QueryParameters.isWellFormed("a=%zz"))
        #expect(!QueryParameters.isWellFormed("%"))
        #expect(QueryParameters.isWellFormed(""))
    }

    @Test(
        "paths that do not normalise to themselves are refused (docs/protocols.md §5)",
        arguments: [
            "/static/../admin", "/static/./x", "/a/..", "/.", "/static/%2e%2e/admin", "/static/.%2E/admin",
            "/static/..;x/admin", "/static/..%2Fadmin", "/static/x%2F..%2Fadmin", "/static/..%5Cadmin", "/a\\b",
            "/%70roject", "/a%7Eb", "/a%2db",
        ])
    func refusesUnnormalisedPaths(path: String) {
        #expect(PathNormalization.problem(in: path[...]) != nil, "\(path)")
    }

    @Test(
        "normal paths pass, with empty segments, reserved escapes and dots inside names",
        arguments: [
            "/", "/rest/api/3/project/PROJ", "/a//b//", "/a%2Fb", "/a%20b", "/file.txt", "/...", "/.hidden", "/a..b",
            "/caf%C3%A9", "/a;b=c", "/%2a",
        ])
    func acceptsNormalPaths(path: String) {
        #expect(PathNormalization.problem(in: path[...]) == nil, "\(path)")
    }

    // MARK: Headers

    @Test("gateway-owned names are recognised in any case and with _ for -")
    func gatewayOwnedNames() {
        for name in [
            "X-Linkgate-App", "x-linkgate-account-id", "X_LINKGATE_AUTH", "x_Linkgate-scopes", "X-Linkgate",
            "x-linkgate-new",
        ] {
            #expect(ForwardedHeaders.isGatewayOwned(name), "\(name)")
        }
        for name in ["X-Link-Gate", "X-Linkgat", "Linkgate-App", "X-Forwarded-For"] {
            #expect(!ForwardedHeaders.isGatewayOwned(name), "\(name)")
        }
    }

    @Test("the Forwarded element quotes an IPv6 client and a host, and leaves out a host that holds a quote")
    func forwardedElement() {
        #expect(
            ForwardedHeaders.forwardedElement(client: "127.0.0.1", authority: "gw:8080")
                == "for=127.0.0.1;host=\"gw:8080\";proto=http")
        #expect(
            ForwardedHeaders.forwardedElement(client: "::1", authority: nil, isSecure: true)
                == "for=\"[::1]\";proto=https")
        #expect(ForwardedHeaders.forwardedElement(client: nil, authority: "") == "proto=http")
        // A quote or backslash would end the quoted host early, even as the start of a longer character.
        for authority in ["a\"b", "a\\b", "a\"\u{301}b"] {
            #expect(
                ForwardedHeaders.forwardedElement(client: "10.0.0.1", authority: authority)
                    == "for=10.0.0.1;proto=http",
                "\(authority)")
        }
    }

    @Test("Connection options name what else is hop-by-hop; the usual keep-alive adds nothing")
    func connectionOptions() {
        #expect(ForwardedHeaders.connectionOptions(["keep-alive"]).isEmpty)
        #expect(ForwardedHeaders.connectionOptions(["Keep-Alive, TE", "Upgrade"]).isEmpty)
        #expect(ForwardedHeaders.connectionOptions(["close"]) == ["close"])
        #expect(ForwardedHeaders.connectionOptions(["keep-alive, X-Hop ,x-other", ""]) == ["x-hop", "x-other"])
    }

    @Test("Host is found in any case, exactly once, and without userinfo")
    func hostHeader() throws {
        for name in ["Host", "host", "HOST", "hOsT"] {
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            head.headers.add(name: name, value: "gw")
            #expect(throws: Never.self, "\(name)") { try RequestHead.check(head) }
        }
        var twice = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        twice.headers.add(name: "Host", value: "gw")
        twice.headers.add(name: "hoSt", value: "gw")
        #expect(throws: GatewayError.self) { try RequestHead.check(twice) }
        for name in ["Hosts", "Hos", "X-Host"] {
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            head.headers.add(name: name, value: "gw")
            #expect(throws: GatewayError.self, "\(name)") { try RequestHead.check(head) }
        }
        var userinfo = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        userinfo.headers.add(name: "Host", value: "user@gw")
        #expect(throws: GatewayError.self) { try RequestHead.check(userinfo) }
    }

    @Test("the forwarded request loses credentials, hop-by-hop and spoofed names, and gains identity and X-Forwarded-*")
    func forwardedRequestHeaders() {
        var fields = HTTPFields()
        fields.append(HTTPField(name: .authorization, value: "JWT secret"))
        fields.append(HTTPField(name: .connection, value: "close, X-Private"))
        fields.append(HTTPField(name: HTTPField.Name("X-Private")!, value: "1"))
        fields.append(HTTPField(name: HTTPField.Name("X_Linkgate_App")!, value: "spoof"))
        fields.append(HTTPField(name: HTTPField.Name("X-Forwarded-For")!, value: "10.0.0.1"))
        fields.append(HTTPField(name: HTTPField.Name("X-Custom")!, value: "kept"))
        let identity = ForwardedIdentity(accountId: "u1", appKey: "app", auth: "jwt", scopeList: "READ WRITE")
        let headers = ForwardedHeaders.request(
            from: fields, authority: "gw:8080", identity: identity, requestId: "rid", clientAddress: "127.0.0.1")
        #expect(headers["Authorization"].isEmpty)
        #expect(headers["Connection"].isEmpty)
        #expect(headers["X-Private"].isEmpty)
        #expect(headers["X-Custom"] == ["kept"])
        #expect(headers["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.1"])
        #expect(headers["X-Forwarded-Host"] == ["gw:8080"])
        #expect(headers["X-Forwarded-Proto"] == ["http"])
        #expect(headers["X-Request-Id"] == ["rid"])
        #expect(headers["X-Linkgate-App"] == ["app"])
        #expect(headers["X-Linkgate-Account-Id"] == ["u1"])
        #expect(headers["X-Linkgate-Auth"] == ["jwt"])
        #expect(headers["X-Linkgate-Scopes"] == ["READ WRITE"])
    }

    @Test("one table lookup per header says what the sets of hop-by-hop, removed and rewriting names say")
    func requestRulesAgreeWithTheSets() {
        var names = ForwardedHeaders.hopByHop.union(ForwardedHeaders.removedFromRequests)
            .union(ForwardedHeaders.rewriting)
        names.formUnion(["x-custom", "content-type", "accept", "t", "tee", "connections", "upgrade-insecure-requests"])
        for name in names {
            let removed =
                ForwardedHeaders.hopByHop.contains(name) || ForwardedHeaders.removedFromRequests.contains(name)
            let expected: ForwardedHeaders.RequestRule? =
                removed ? .removed : ForwardedHeaders.rewriting.contains(name) ? .rewriting : nil
            #expect(ForwardedHeaders.requestRules[name] == expected, "\(name)")
            #expect(ForwardedHeaders.isHopByHop(name) == ForwardedHeaders.hopByHop.contains(name), "\(name)")
            let upper = name.uppercased()
            #expect(ForwardedHeaders.isHopByHop(upper) == ForwardedHeaders.hopByHop.contains(name), "\(upper)")
        }
    }

    @Test("the fast path's NIO headers: a rewriting header passes only where named, earlier hops are joined")
    func forwardedRequestHeadersFromNIO() {
        let rewriting = ForwardedHeaders.rewriting.sorted()
        let headers = HTTPHeaders([
            ("Host", "gw"), ("Authorization", "JWT secret"), (rewriting[0], "a"), (rewriting[1], "b"),
            ("X-Forwarded-For", "10.0.0.1"), ("x_forwarded_for", "10.9.9.9"), ("Forwarded", "for=10.0.0.1"),
            ("Connection", "X-Listed"), ("X-Listed", "1"), ("X-Kept", "2"),
        ])
        let forwarded = ForwardedHeaders.request(
            from: headers, authority: "gw", identity: .anonymous, requestId: "rid", clientAddress: "127.0.0.2",
            passed: [rewriting[1]])
        #expect(forwarded[rewriting[0]].isEmpty)
        #expect(forwarded[rewriting[1]] == ["b"])
        #expect(forwarded["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.2"])
        #expect(forwarded["Forwarded"] == ["for=10.0.0.1, for=127.0.0.2;host=\"gw\";proto=http"])
        #expect(forwarded["X-Listed"].isEmpty)
        #expect(forwarded["X-Kept"] == ["2"])
        #expect(forwarded["X-Linkgate-Scopes"].isEmpty)
        let alone = ForwardedHeaders.request(
            from: HTTPHeaders([("Host", "gw")]), authority: "gw", identity: .anonymous, requestId: "rid",
            clientAddress: "127.0.0.2")
        #expect(alone["X-Forwarded-For"] == ["127.0.0.2"])
        #expect(alone["Forwarded"] == ["for=127.0.0.2;host=\"gw\";proto=http"])
    }

    @Test("the fast path's response filter keeps an answer with nothing to drop as it is, in order")
    func filteredResponseHeaders() {
        var clean = HTTPHeaders([("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("X-One", "1")])
        ForwardedHeaders.filterResponse(&clean)
        #expect(clean.map(\.name) == ["Content-Type", "Set-Cookie", "X-One"])
        var hop = HTTPHeaders([
            ("Content-Type", "text/plain"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "5"),
            ("X-Two", "2"),
        ])
        ForwardedHeaders.filterResponse(&hop)
        #expect(hop.map(\.name) == ["Content-Type", "X-Two"])
    }

    @Test("the upstream's response keeps its headers but loses hop-by-hop ones")
    func forwardedResponseHeaders() {
        let headers = HTTPHeaders([
            ("Content-Type", "text/plain"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"),
            ("Transfer-Encoding", "chunked"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
        ])
        let fields = ForwardedHeaders.response(from: headers)
        #expect(fields[.contentType] == "text/plain")
        #expect(fields[values: .setCookie] == ["a=1", "b=2"])
        #expect(fields[.connection] == nil)
        #expect(fields[.transferEncoding] == nil)
        #expect(fields[HTTPField.Name("X-Hop")!] == nil)
    }

    @Test("request ids: a sane client id is kept, anything else replaced by 32 hex digits")
    func requestIds() {
        #expect(RequestID.resolve("abc-123") == "abc-123")
        for bad in [nil, "", "has space", String(repeating: "a", count: 129), "caf\u{e9}"] {
            let made = RequestID.resolve(bad)
            #expect(made.count == 32 && made.allSatisfy(\.isHexDigit))
        }
        #expect(RequestID.make() != RequestID.make())
    }

    // MARK: Addresses and upstreams

    @Test("listen addresses parse HOST:PORT and [IPv6]:PORT and refuse the rest")
    func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(try ListenAddress(parsing: "[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(try ListenAddress(parsing: "localhost:65535").port == 65_535)
        for bad in ["8080", ":8080", "host:", "host:65536", "host:-1", "::1:80", "[::1]8080"] {
            #expect(throws: ListenAddress.Problem.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }

    @Test("an upstream URL keeps its path as a prefix; the request's path and query keep their bytes")
    func upstreamTargets() throws {
        let spec = UpstreamSpec(
            name: "jira", url: "http://127.0.0.1:9000/base/",
            source: PolicyLocation(file: "routes.json", pointer: "/upstreams/jira"))
        let target = try UpstreamTarget(spec)
        #expect(
            target.url(rawPath: "/rest/a%2Fb", rawQuery: "q=%20&x") == "http://127.0.0.1:9000/base/rest/a%2Fb?q=%20&x")
        #expect(target.url(rawPath: "/x", rawQuery: "") == "http://127.0.0.1:9000/base/x")
        let bare = try UpstreamTarget(UpstreamSpec(name: "b", url: "https://api.example.com", source: spec.source))
        #expect(bare.url(rawPath: "/x", rawQuery: nil) == "https://api.example.com/x")
    }

    // MARK: Refusals

    /// A latency as the access line writes it.
    static func milliseconds(_ duration: Duration) -> String {
        LineWriter.text { $0.writeMilliseconds(duration) }
    }

    @Test("latencies print as milliseconds with three decimals")
    func latencies() {
        #expect(Self.milliseconds(.microseconds(12_345)) == "12.345")
        #expect(Self.milliseconds(.microseconds(7)) == "0.007")
        #expect(Self.milliseconds(.seconds(2)) == "2000.000")
        #expect(Self.milliseconds(.microseconds(-5)) == "0.000")
        for status in [0, 7, 10, 99, 200, 504, 1_000, 123_456_789] {
            #expect(LineWriter.text { $0.writeDecimal(UInt64(status)) } == String(status))
        }
    }

    @Test("challenge descriptions are made safe for a quoted-string")
    func quotedStrings() {
        #expect(AuthorizationScheme.quotedStringContent(#"say "hi" \ now"#) == #"say \"hi\" \\ now"#)
        #expect(AuthorizationScheme.quotedStringContent("caf\u{e9}\n") == "caf??")
    }
}

@Suite("What comes back from the upstream")
struct UpstreamAnswerTests {
    @Test("Set-Cookie of the gateway's own cookies is dropped from upstream answers, others pass")
    func gatewayCookies() {
        var headers = HTTPHeaders()
        headers.add(name: "Set-Cookie", value: "lg_session=evil; Path=/")
        headers.add(name: "set-cookie", value: " lg_csrf=x")
        headers.add(name: "Set-Cookie", value: "lg_session_other=1")
        headers.add(name: "Content-Type", value: "text/plain")
        let fields = ForwardedHeaders.response(from: headers)
        #expect(fields[values: .setCookie] == ["lg_session_other=1"])
        #expect(fields[.contentType] == "text/plain")
        var filtered = headers
        ForwardedHeaders.filterResponse(&filtered)
        #expect(filtered["set-cookie"] == ["lg_session_other=1"], "the fast path filters alike")
        #expect(filtered["content-type"] == ["text/plain"])
    }

    @Test("a connect timeout is a 504 naming connectTimeoutMs; anything else before the answer is a 502")
    func connectFailures() throws {
        let target = try UpstreamTarget(
            UpstreamSpec(name: "jira", url: "http://127.0.0.1:9000", source: PolicyLocation(file: "routes.json")))
        #expect(ProxyExchange.failure(ChannelError.connectTimeout(.seconds(1)), target: target).status == 504)
        #expect(ProxyExchange.failure(ChannelError.ioOnClosedChannel, target: target).status == 502)
    }

    @Test("an upstream URL's authority gives the host, the port and the Host header sent")
    func upstreamAuthority() throws {
        #expect(UpstreamTarget.hostAndPort("example.com", defaultPort: 443)! == ("example.com", 443))
        #expect(UpstreamTarget.hostAndPort("127.0.0.1:9000", defaultPort: 80)! == ("127.0.0.1", 9000))
        #expect(UpstreamTarget.hostAndPort("[::1]:8443", defaultPort: 80)! == ("::1", 8443))
        #expect(UpstreamTarget.hostAndPort("[::1]", defaultPort: 80)! == ("::1", 80))
        #expect(UpstreamTarget.hostAndPort("host:99999", defaultPort: 80) == nil)
        #expect(UpstreamTarget.hostAndPort("user@host", defaultPort: 80) == nil)
    }

    @Test("a gateway error from the upstream exchange (a 101 nobody asked for) is kept as it is: 502")
    func switchedProtocols() throws {
        let target = try UpstreamTarget(
            UpstreamSpec(name: "jira", url: "http://127.0.0.1:9000", source: PolicyLocation(file: "routes.json")))
        let failure = ProxyExchange.failure(
            GatewayError(.upstreamSwitchedProtocols, "switched"), target: target)
        #expect(failure.code == .upstreamSwitchedProtocols && failure.status == 502 && failure.error == "bad_gateway")
    }
}

extension LineWriter {
    /// What `write` puts in a writer of `capacity` bytes, as text.
    static func text(capacity: Int = 64, _ write: (inout LineWriter) -> Void) -> String {
        withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { scratch in
            var writer = LineWriter(scratch)
            write(&writer)
            return String(decoding: UnsafeRawBufferPointer(rebasing: scratch[..<writer.count]), as: UTF8.self)
        }
    }
}
