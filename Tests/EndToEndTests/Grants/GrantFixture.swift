import AsyncHTTPClient
import Foundation
import JWT
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// The stores the grant tests run on: the SQLite file of the policy copy, and
/// a fresh database on the test PostgreSQL cluster when `make test` started one.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [StoreKind] { PostgresCluster.isAvailable ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// The `--store` URL for a new store of this kind (nil: gateway.json's SQLite file).
    func freshURL() throws -> String? {
        switch self {
        case .sqlite: nil
        case .postgres: try PostgresCluster.newDatabase()
        }
    }
}

/// Assertions, token exchanges and Bearer requests against a `GatewayFixture`.
extension GatewayFixture {
    static let site = "http://127.0.0.1:8080"
    static let bob = "5b10a2844c20165700ede21g"
    static let carol = "5b109f2e9729b51b54dc274d"
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    convenience init(_ kind: StoreKind, edit: (URL) throws -> Void = { _ in }) async throws {
        try await self.init(store: try kind.freshURL(), edit: edit)
    }

    /// A 2LOi assertion as Atlassian's client libraries make it, changed by `change`.
    func assertion(
        app file: String = "automation.json", clientID: String = "automation-2loi-client",
        user: String = ExampleSite.alice, lifetime: Int64 = 60, secret: [UInt8]? = nil,
        change: (inout JSONObject) -> Void = { _ in }
    ) throws -> String {
        let now = UnixTime.now()
        var claims = JSONObject([
            ("iss", .string("urn:atlassian:connect:clientid:\(clientID)")),
            ("sub", .string("urn:atlassian:connect:useraccountid:\(user)")),
            ("tnt", .string(Self.site)),
            ("aud", .string(Self.site + "/oauth2/token")),
            ("iat", .integer(now)),
            ("exp", .integer(now + lifetime)),
            ("jti", .string(SecureRandom.identifier())),
        ])
        change(&claims)
        let key = try JWTKey.secret(try secret ?? ExampleSite.sharedSecret(ofAppFile: file), algorithm: .hs256)
        return try JWTSigner(key: key).sign(claims)
    }

    /// `POST /oauth2/token` with a form body (or JSON).
    func exchange(
        _ assertion: String, scope: String? = nil, json: Bool = false, path: String = "/oauth2/token",
        port: Int? = nil
    ) async throws -> Reply {
        var fields = [("grant_type", Self.jwtBearer), ("assertion", assertion)]
        if let scope { fields.append(("scope", scope)) }
        return try await post(path, fields: fields, json: json, port: port)
    }

    /// A POST of `fields` as a form (or a JSON object) to one of the gateway's endpoints.
    func post(
        _ path: String, fields: [(String, String)], json: Bool = false, headers: [(String, String)] = [],
        port: Int? = nil
    ) async throws -> Reply {
        let body: String
        if json {
            let object = Dictionary(fields, uniquingKeysWith: { $1 })
            body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        } else {
            body = fields.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&")
        }
        let type = json ? "application/json" : "application/x-www-form-urlencoded"
        return try await send(.POST, path, headers: [("Content-Type", type)] + headers, body: body, port: port)
    }

    /// A token from a fresh assertion; fails the test when none comes back.
    func accessToken(user: String = ExampleSite.alice, scope: String? = nil, port: Int? = nil) async throws -> String {
        let reply = try await exchange(try assertion(user: user), scope: scope, port: port)
        #expect(reply.status == 200, "token exchange: \(reply.body)")
        return try #require(reply.json["access_token"] as? String)
    }

    func sendBearer(
        _ method: HTTPMethod = .GET, _ target: String, token: String, port: Int? = nil
    ) async throws -> Reply {
        try await send(method, target, headers: [("Authorization", "Bearer \(token)")], port: port)
    }

    /// `Authorization: Basic` for an app's client credentials.
    static func basic(_ id: String, _ secret: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString())
    }

    static let automationSecret = "demo-only-automation-shared-secret-fedcba9876543210"

    static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Polls `condition` every 50 ms for at most `seconds`; true as soon as it holds.
    func eventually(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}
