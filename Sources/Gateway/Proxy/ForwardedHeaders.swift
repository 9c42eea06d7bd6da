import HTTPTypes
import NIOHTTP1

/// What the backend is told about who is calling (docs/gateway.md §5).
struct ForwardedIdentity: Sendable, Equatable {
    var accountId: String?
    var appKey: String?
    var auth: String
    var scopes: [String]

    static let anonymous = ForwardedIdentity(accountId: nil, appKey: nil, auth: "anonymous", scopes: [])
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
    /// framing are set again by the client towards the upstream.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]
    static let removedFromRequests: Set<String> = [
        "authorization", "host", "content-length", "expect", "x-request-id",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
    ]

    /// Whether a header name is the gateway's own, in any case and with `_` for `-`
    /// (some servers fold `_` into `-`, so `X_Linkgate_App` must go too).
    static func isGatewayOwned(_ name: String) -> Bool {
        var normalized = name.utf8.lazy.map { byte -> UInt8 in
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            return lower == UInt8(ascii: "_") ? UInt8(ascii: "-") : lower
        }.makeIterator()
        for expected in "x-linkgate".utf8 {
            guard normalized.next() == expected else { return false }
        }
        return true
    }

    /// The names the `Connection` header lists: hop-by-hop for this connection only.
    static func connectionOptions(_ fields: HTTPFields) -> Set<String> {
        var names: Set<String> = []
        for value in fields[values: .connection] {
            for option in value.split(separator: ",") {
                let name = option.trimmingSpaces().lowercased()
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }

    /// The headers sent upstream: the client's, less credentials, hop-by-hop and
    /// gateway-owned names, plus the identity, the request id and `X-Forwarded-*`.
    static func request(
        from fields: HTTPFields, authority: String?, identity: ForwardedIdentity, requestId: String,
        clientAddress: String?
    ) -> HTTPHeaders {
        let options = connectionOptions(fields)
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 8)
        var forwardedFor: [String] = []
        for field in fields {
            let name = field.name.canonicalName
            if name == "x-forwarded-for" { forwardedFor.append(field.value) }
            if hopByHop.contains(name) || removedFromRequests.contains(name) || options.contains(name)
                || isGatewayOwned(name)
            {
                continue
            }
            headers.add(name: field.name.rawName, value: field.value)
        }
        if let clientAddress { forwardedFor.append(clientAddress) }
        if !forwardedFor.isEmpty { headers.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", ")) }
        headers.add(name: "X-Forwarded-Proto", value: "http")
        if let authority, !authority.isEmpty { headers.add(name: "X-Forwarded-Host", value: authority) }
        headers.add(name: Self.requestId, value: requestId)
        if let account = identity.accountId { headers.add(name: accountId, value: account) }
        if let appKey = identity.appKey { headers.add(name: app, value: appKey) }
        headers.add(name: auth, value: identity.auth)
        if !identity.scopes.isEmpty { headers.add(name: scopes, value: identity.scopes.joined(separator: " ")) }
        return headers
    }

    /// The upstream's response headers, less hop-by-hop ones (the server frames
    /// the body again); everything else comes back unchanged.
    static func response(from headers: HTTPHeaders) -> HTTPFields {
        var options: Set<String> = []
        for value in headers["connection"] {
            for option in value.split(separator: ",") { options.insert(option.trimmingSpaces().lowercased()) }
        }
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !hopByHop.contains(lower), !options.contains(lower), let fieldName = HTTPField.Name(name) else {
                continue
            }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
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
