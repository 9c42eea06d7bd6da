import HTTPTypes
import NIOHTTP1
import Policy

/// What the backend is told about who is calling (docs/gateway.md §5).
struct ForwardedIdentity: Sendable, Equatable {
    var accountId: String?
    var appKey: String?
    var auth: String
    /// The scopes held, space-separated (`X-Linkgate-Scopes`); empty when none.
    var scopeList: String

    static let anonymous = ForwardedIdentity(accountId: nil, appKey: nil, auth: "anonymous", scopeList: "")
}

/// The header rules of docs/gateway.md §5: what is removed from a forwarded request
/// and its response, and what is added.
enum ForwardedHeaders {
    static let accountId = "X-Linkgate-Account-Id"
    static let app = "X-Linkgate-App"
    static let auth = "X-Linkgate-Auth"
    static let scopes = "X-Linkgate-Scopes"
    static let requestId = "X-Request-Id"

    /// RFC 9110 §7.6.1 and the older names proxies still meet; `Host` and
    /// framing are set again by the client towards the upstream. The one list of
    /// them: `hopByHop` and both `isHopByHop` read it.
    static let hopByHopNames: [StaticString] = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]
    static let hopByHop = Set(hopByHopNames.map(\.description))

    /// Whether a name is in `hopByHop`, in any case: its bytes compared with the
    /// short names, cheaper than hashing them, once for every response header.
    static func isHopByHop(_ name: String) -> Bool {
        name.utf8.withContiguousStorageIfAvailable { isHopByHop(UnsafeRawBufferPointer($0), 0..<$0.count) }
            ?? hopByHop.contains(name.lowercased())
    }

    /// `isHopByHop` for the bytes at `range` (a field's name, a `Connection` option).
    static func isHopByHop(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        hopByHopNames.contains { RawHeadReader.bytes(raw, at: range, are: $0) }
    }

    static let removedFromRequests: Set<String> = [
        "authorization", "host", "content-length", "expect", "x-request-id",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
    ]

    /// Headers some backends and frameworks read as the real method, URL, client or
    /// user: a client must not choose them. Removed unless `gateway.json`'s
    /// `forwardClientHeaders` names them (docs/policies.md §3).
    static let rewriting = GatewaySettings.clientRewritingHeaders

    /// What the request rules do with a client's header, by its folded name.
    enum RequestRule {
        /// Hop-by-hop, a credential, framing or a name the gateway sets itself: never sent on.
        case removed
        /// One of `rewriting`: sent on only where `forwardClientHeaders` names it.
        case rewriting
    }

    /// `hopByHop`, `removedFromRequests` and `rewriting` in one table, so that each
    /// header costs one lookup on the proxy path.
    static let requestRules: [String: RequestRule] = {
        var rules = Dictionary(uniqueKeysWithValues: rewriting.map { ($0, RequestRule.rewriting) })
        for name in hopByHop.union(removedFromRequests) { rules[name] = .removed }
        return rules
    }()

    /// A header name as servers that fold names read it: lower case, `_` for `-`
    /// (so `Content_Length` and `X_Linkgate_App` are what they look like).
    static func folded(_ name: String) -> String {
        folded(canonical: name.lowercased())
    }

    /// `folded` of a name already in lower case (`HTTPField.Name.canonicalName`):
    /// no new string unless it has a `_`.
    static func folded(canonical name: String) -> String {
        name.utf8.contains(UInt8(ascii: "_")) ? name.replacing("_", with: "-") : name
    }

    /// Whether a header name is the gateway's own, in any case and with `_` for `-`.
    static func isGatewayOwned(_ name: String) -> Bool {
        folded(name).hasPrefix("x-linkgate")
    }

    /// The names the `Connection` header lists: hop-by-hop for this connection only.
    static func connectionOptions(_ fields: HTTPFields) -> Set<String> {
        connectionOptions(fields[values: .connection])
    }

    /// The names listed by `values`, the `Connection` header's values.
    static func connectionOptions(_ values: some Sequence<String>) -> Set<String> {
        var names: Set<String> = []
        for value in values {
            for option in value.split(separator: ",") {
                // ASCII only, as the byte path reads options (`ConnectionField`): an option is a
                // token, and a Unicode lowercasing would make `k` of a Kelvin sign.
                let name = String(
                    decoding: option.trimmingSpaces().utf8.lazy.map(RawHeadReader.asciiLowercased), as: UTF8.self)
                // A hop-by-hop name (the usual `keep-alive`) goes anyway: the set stays empty, unallocated.
                if !name.isEmpty, !isHopByHop(name) { names.insert(name) }
            }
        }
        return names
    }

    /// One request header as the rules read it: its name in lower case, as received, and its value.
    typealias Field = (lowercased: String, name: String, value: String)

    /// The headers sent upstream (`request(fields:…)`) from Hummingbird's fields.
    /// - Parameter passed: rewriting headers `gateway.json` lets through (folded names).
    static func request(
        from fields: HTTPFields, authority: String?, identity: ForwardedIdentity, requestId: String,
        clientAddress: String?, passed: Set<String> = [], isSecure: Bool = false
    ) -> HTTPHeaders {
        request(
            fields: fields.lazy.map { ($0.name.canonicalName, $0.name.rawName, $0.value) }, count: fields.count,
            options: connectionOptions(fields), authority: authority, identity: identity, requestId: requestId,
            clientAddress: clientAddress, passed: passed, isSecure: isSecure)
    }

    /// The headers sent upstream (`request(fields:…)`) from the fast path's NIO headers.
    static func request(
        from headers: HTTPHeaders, authority: String?, identity: ForwardedIdentity, requestId: String,
        clientAddress: String?, passed: Set<String> = [], isSecure: Bool = false
    ) -> HTTPHeaders {
        request(
            fields: headers.lazy.map { ($0.name.lowercased(), $0.name, $0.value) }, count: headers.count,
            options: connectionOptions(headers["connection"]), authority: authority, identity: identity,
            requestId: requestId, clientAddress: clientAddress, passed: passed, isSecure: isSecure)
    }

    /// `request(fields:into:…)` into a new `HTTPHeaders`.
    static func request(
        fields: some Sequence<Field>, count: Int, options: Set<String>, authority: String?,
        identity: ForwardedIdentity, requestId: String, clientAddress: String?, passed: Set<String>,
        isSecure: Bool = false
    ) -> HTTPHeaders {
        var sink = HeadersSink(headers: HTTPHeaders())
        sink.headers.reserveCapacity(count + 8)
        request(
            fields: fields.lazy.map(StringField.init), options: options, authority: authority, identity: identity,
            requestId: requestId, clientAddress: clientAddress, passed: passed, isSecure: isSecure, into: &sink)
        return sink.headers
    }

    /// The headers sent upstream: the client's, less credentials, hop-by-hop,
    /// framing, request-rewriting and gateway-owned names (each also with `_` for
    /// `-`), plus the identity, the request id, `X-Forwarded-*` and `Forwarded`.
    /// Every data path builds its upstream headers here: as `HTTPHeaders`, or as
    /// bytes (`UpstreamHeadWriter`), each client field kept sent on as received.
    /// `isSecure`: the client came over TLS, so `proto` is `https` (docs/tls.md §1).
    static func request<Sink: ForwardedHeaderSink>(
        fields: some Sequence<Sink.Field>, options: Set<String>, authority: String?, identity: ForwardedIdentity,
        requestId: String, clientAddress: String?, passed: Set<String>, isSecure: Bool, into sink: inout Sink
    ) {
        var forwardedFor: [String] = []
        var forwarded: [String] = []
        for field in fields {
            let lowercased = field.lowercasedName
            let name = folded(canonical: lowercased)
            switch requestRules[name] {
            case .removed:
                // Only the exact names carry earlier hops; `X_Forwarded_For` is dropped, not believed.
                if lowercased == name, name == "x-forwarded-for" { forwardedFor.append(field.value) }
                if lowercased == name, name == "forwarded" { forwarded.append(field.value) }
                continue
            case .rewriting:
                guard passed.contains(name) else { continue }
            case nil:
                break
            }
            // The folded name is ASCII-lowercased: its bytes are compared, with no Unicode rules.
            if !options.isEmpty && options.contains(name) || name.utf8.starts(with: "x-linkgate".utf8) { continue }
            sink.keep(field)
        }
        // The usual request has no earlier hop: its values go as they are, with no list joined.
        if forwardedFor.isEmpty, let clientAddress {
            sink.add(name: "X-Forwarded-For", value: clientAddress)
        } else {
            if let clientAddress { forwardedFor.append(clientAddress) }
            if !forwardedFor.isEmpty {
                sink.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", "))
            }
        }
        if forwarded.isEmpty {
            sink.addForwarded(client: clientAddress, authority: authority, isSecure: isSecure)
        } else {
            let element = Self.forwardedElement(client: clientAddress, authority: authority, isSecure: isSecure)
            sink.add(name: "Forwarded", value: (forwarded + [element]).joined(separator: ", "))
        }
        sink.add(name: "X-Forwarded-Proto", value: isSecure ? "https" : "http")
        if let authority, !authority.isEmpty { sink.add(name: "X-Forwarded-Host", value: authority) }
        identityFields(identity, requestId: requestId) { sink.add(name: $0, value: $1) }
    }

    /// A client field given as strings.
    struct StringField: ForwardedField {
        let field: Field
        var lowercasedName: String { field.lowercased }
        var value: String { field.value }
    }

    /// Collects the upstream headers as `HTTPHeaders`.
    struct HeadersSink: ForwardedHeaderSink {
        var headers: HTTPHeaders
        mutating func keep(_ field: StringField) { headers.add(name: field.field.name, value: field.field.value) }
        mutating func add(name: String, value: String) { headers.add(name: name, value: value) }
    }

    /// The request id and the identity headers, in the order they are sent: to the
    /// upstream, and in the authz listener's 200.
    static func identityFields(
        _ identity: ForwardedIdentity, requestId: String, _ add: (_ name: String, _ value: String) -> Void
    ) {
        add(Self.requestId, requestId)
        if let account = identity.accountId { add(accountId, account) }
        if let appKey = identity.appKey { add(app, appKey) }
        add(auth, identity.auth)
        if !identity.scopeList.isEmpty { add(scopes, identity.scopeList) }
    }

    /// Completes the headers sent upstream on both data paths: the upstream's own
    /// `Host`, and the body's framing as the client sent it (its `Content-Length`,
    /// else chunked when it sent a `Transfer-Encoding`, which must end in chunked).
    /// - Returns: whether a body follows the head.
    static func frame(
        _ headers: inout HTTPHeaders, host: String, contentLength: String?, hasTransferEncoding: Bool
    ) -> Bool {
        headers.add(name: "Host", value: host)
        if let contentLength {
            headers.add(name: "Content-Length", value: contentLength)
        } else if hasTransferEncoding {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return RequestFraming.hasBody(contentLength: contentLength, hasTransferEncoding: hasTransferEncoding)
    }

    /// The bytes of a `Forwarded` element besides the address and the host: `for="[`,
    /// `]";`, `host="`, `";` and `proto=https`.
    private static let forwardedElementOverhead = 32

    /// This hop's `Forwarded` element (RFC 7239 §4): `for`, `host` and `proto`,
    /// quoted where the syntax needs it (an IPv6 address, a host with a port).
    static func forwardedElement(client: String?, authority: String?, isSecure: Bool = false) -> String {
        var element = ""
        // One allocation, not one at each append that outgrows the string.
        element.reserveCapacity(forwardedElementLength(client: client, authority: authority))
        // Appended piece by piece: an interpolated piece would be a string of its own.
        forwardedElement(client: client, authority: authority, isSecure: isSecure) { element += $0 }
        return element
    }

    /// At least the length of the element of `client` and `authority`.
    static func forwardedElementLength(client: String?, authority: String?) -> Int {
        (client?.utf8.count ?? 0) + (authority?.utf8.count ?? 0) + Self.forwardedElementOverhead
    }

    /// The element's pieces, in order: the one definition of its text, which the
    /// byte path writes straight into the head it sends.
    static func forwardedElement(
        client: String?, authority: String?, isSecure: Bool, _ piece: (String) -> Void
    ) {
        if let client {
            let isIPv6 = client.utf8.contains(UInt8(ascii: ":"))
            piece(isIPv6 ? "for=\"[" : "for=")
            piece(client)
            piece(isIPv6 ? "]\";" : ";")
        }
        if let authority, !authority.isEmpty,
            authority.utf8.allSatisfy({ $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        {
            piece("host=\"")
            piece(authority)
            piece("\";")
        }
        piece(isSecure ? "proto=https" : "proto=http")
    }

    /// The gateway's own cookies: an upstream may not set them, or a backend could
    /// fix a user's session with the gateway.
    static let gatewayCookies: Set<Substring> = [
        Substring(BrowserSessions.cookieName), Substring(BrowserSessions.loginCSRFCookie),
    ]

    /// Whether a `Set-Cookie` value sets one of the gateway's own cookies.
    static func setsGatewayCookie(_ value: String) -> Bool {
        let name = value[..<(value.firstIndex(of: "=") ?? value.endIndex)].trimmingSpaces()
        return gatewayCookies.contains(Substring(name))
    }

    /// Whether an upstream response header is passed back to the client: not a
    /// hop-by-hop one (the server frames the body again), not one `Connection`
    /// lists, not a `Set-Cookie` of the gateway's own cookies. Both data paths ask this.
    /// `value` is read only for a `Set-Cookie`.
    static func passesResponseHeader(
        lowercased name: String, value: @autoclosure () -> String, options: Set<String>
    ) -> Bool {
        !isHopByHop(name) && (options.isEmpty || !options.contains(name))
            && !(name == "set-cookie" && setsGatewayCookie(value()))
    }

    /// The upstream's response headers for Hummingbird: everything `passesResponseHeader` lets through.
    static func response(from headers: HTTPHeaders) -> HTTPFields {
        let options = connectionOptions(headers["connection"])
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard passesResponseHeader(lowercased: name.lowercased(), value: value, options: options),
                let fieldName = HTTPField.Name(name)
            else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    /// The upstream's response headers for the fast path, filtered in place the same way.
    static func filterResponse(_ headers: inout HTTPHeaders) {
        let options = connectionOptions(headers["connection"])
        // One look at each header; the usual answer drops one (`Connection`), so it is built anew.
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        var dropped = false
        for (name, value) in headers {
            if passesResponseHeader(lowercased: name.lowercased(), value: value, options: options) {
                kept.add(name: name, value: value)
            } else {
                dropped = true
            }
        }
        if dropped { headers = kept }
    }
}

/// A client's request field, as the header rules read it.
protocol ForwardedField {
    /// The name in lower case (not yet folded).
    var lowercasedName: String { get }
    /// The value; read only for the fields that carry earlier hops.
    var value: String { get }
}

/// Where `ForwardedHeaders.request` puts the upstream headers: the client
/// fields it keeps, then the ones it adds.
protocol ForwardedHeaderSink {
    associatedtype Field: ForwardedField
    /// Sends a client field on as it was received.
    mutating func keep(_ field: Field)
    mutating func add(name: String, value: String)
    /// Adds `Forwarded` with this hop's element alone (`ForwardedHeaders.forwardedElement`).
    mutating func addForwarded(client: String?, authority: String?, isSecure: Bool)
}

extension ForwardedHeaderSink {
    mutating func addForwarded(client: String?, authority: String?, isSecure: Bool) {
        add(
            name: "Forwarded",
            value: ForwardedHeaders.forwardedElement(client: client, authority: authority, isSecure: isSecure))
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
