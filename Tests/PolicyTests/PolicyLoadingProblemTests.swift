import Testing

@testable import Policy

/// One broken policy folder: `Fixtures/minimal` with some files replaced, and
/// the single problem it must produce.
struct ProblemCase: CustomTestStringConvertible, Sendable {
    let name: String
    var overlay: String? = nil
    var files: [String: String?] = [:]
    var environment: [String: String] = [:]
    let file: String
    let pointer: String

    var testDescription: String { name }
}

/// Builders for the files the cases replace, so each case states only what differs.
enum Broken {
    static let secret = "\"fixture-shared-secret-at-least-32-bytes-long\""

    static func gateway(_ members: String) -> [String: String?] {
        ["gateway.json": "{ \"baseUrl\": \"https://linkgate.example.com\"\(members.isEmpty ? "" : ", " + members) }"]
    }

    static func app(
        _ members: String, file: String = "apps/demo.json", key: String = "com.example.demo"
    ) -> [String: String?] {
        [
            file:
                "{ \"key\": \"\(key)\", \"sharedSecret\": \(secret), \"appUser\": \"app-demo\"\(members.isEmpty ? "" : ", " + members) }"
        ]
    }

    static func oauth2(_ members: String) -> [String: String?] {
        app("\"oauth2\": { \"clientId\": \"demo-3lo\", \(members) }")
    }

    static func oauth1(_ members: String) -> [String: String?] {
        app("\"oauth1\": { \"consumerKey\": \"demo-link\", \(members) }")
    }

    static let baseUsers = """
        { "accountId": "u-alice", "name": "alice", "email": "alice@example.com", "groups": ["staff"] },
        { "accountId": "app-demo", "name": "demo-app-user" }
        """

    static func users(_ users: String) -> [String: String?] {
        ["users.json": "{ \"users\": [ \(baseUsers), \(users) ] }"]
    }

    static func grant(_ members: String) -> [String: String?] {
        ["permissions.json": "{ \"grants\": [ { \"permission\": \"BROWSE_PROJECTS\", \(members) } ] }"]
    }

    static func route(
        _ members: String, upstreams: String = "\"backend\": { \"url\": \"http://127.0.0.1:9000\" }"
    ) -> [String: String?] {
        ["routes.json": "{ \"upstreams\": { \(upstreams) }, \"routes\": [ { \(members) } ] }"]
    }

    static func scopes(_ implies: String) -> [String: String?] {
        ["scopes.json": "{ \"implies\": { \(implies) } }"]
    }
}

extension Broken {
    static let get = "\"methods\": [\"GET\"], \"upstream\": \"backend\""
}

let fileCases: [ProblemCase] = [
    ProblemCase(name: "JSON syntax error", overlay: "syntax-error", file: "users.json", pointer: ""),
    ProblemCase(name: "duplicate key", overlay: "duplicate-key", file: "gateway.json", pointer: ""),
    ProblemCase(name: "missing required file", files: ["routes.json": nil], file: "routes.json", pointer: ""),
    ProblemCase(name: "misspelt file name", files: ["route.json": "{}"], file: "route.json", pointer: ""),
    ProblemCase(name: "top level is not an object", files: ["users.json": "[]"], file: "users.json", pointer: ""),
]

let gatewayCases: [ProblemCase] = [
    ProblemCase(
        name: "unknown key", files: Broken.gateway("\"lisen\": \"127.0.0.1:1\""), file: "gateway.json",
        pointer: "/lisen"),
    ProblemCase(
        name: "wrong type", files: Broken.gateway("\"clockSkewSeconds\": \"30\""), file: "gateway.json",
        pointer: "/clockSkewSeconds"),
    ProblemCase(name: "baseUrl missing", files: ["gateway.json": "{}"], file: "gateway.json", pointer: "/baseUrl"),
    ProblemCase(
        name: "baseUrl not http", files: ["gateway.json": "{\"baseUrl\": \"ftp://x.example\"}"], file: "gateway.json",
        pointer: "/baseUrl"),
    ProblemCase(
        name: "listen without port", files: Broken.gateway("\"listen\": \"localhost\""), file: "gateway.json",
        pointer: "/listen"),
    ProblemCase(
        name: "authzListen equal to listen",
        files: Broken.gateway("\"listen\": \"127.0.0.1:9100\", \"authzListen\": \"127.0.0.1:9100\""),
        file: "gateway.json", pointer: "/authzListen"),
    ProblemCase(
        name: "authzPathPrefix with a trailing slash", files: Broken.gateway("\"authzPathPrefix\": \"/authz/\""),
        file: "gateway.json", pointer: "/authzPathPrefix"),
    ProblemCase(
        name: "tls without its key", files: Broken.gateway("\"tls\": {\"certificateFile\": \"users.json\"}"),
        file: "gateway.json", pointer: "/tls/keyFile"),
    ProblemCase(
        name: "tls certificate file missing",
        files: Broken.gateway("\"tls\": {\"certificateFile\": \"tls/none.pem\", \"keyFile\": \"users.json\"}"),
        file: "gateway.json", pointer: "/tls/certificateFile"),
    ProblemCase(
        name: "adminTls misspelt key",
        files: Broken.gateway(
            "\"adminTls\": {\"certificateFile\": \"users.json\", \"keyFile\": \"users.json\", \"keyfile\": \"x\"}"),
        file: "gateway.json", pointer: "/adminTls/keyfile"),
    ProblemCase(
        name: "upstream tls on an http url",
        files: Broken.route(
            "\"path\": \"/a\", \(Broken.get), \"public\": true",
            upstreams:
                "\"backend\": { \"url\": \"http://127.0.0.1:9000\", \"tls\": {\"serverName\": \"api.internal\"} }"),
        file: "routes.json", pointer: "/upstreams/backend/tls"),
    ProblemCase(
        name: "upstream client certificate without its key",
        files: Broken.route(
            "\"path\": \"/a\", \(Broken.get), \"public\": true",
            upstreams:
                "\"backend\": { \"url\": \"https://127.0.0.1:9000\", \"tls\": {\"certificateFile\": \"users.json\"} }"),
        file: "routes.json", pointer: "/upstreams/backend/tls"),
    ProblemCase(
        name: "upstream serverName not a DNS name",
        files: Broken.route(
            "\"path\": \"/a\", \(Broken.get), \"public\": true",
            upstreams: "\"backend\": { \"url\": \"https://127.0.0.1:9000\", \"tls\": {\"serverName\": \"a b\"} }"),
        file: "routes.json", pointer: "/upstreams/backend/tls/serverName"),
    ProblemCase(
        name: "adminListen bad port", files: Broken.gateway("\"adminListen\": \"127.0.0.1:70000\""),
        file: "gateway.json", pointer: "/adminListen"),
    ProblemCase(
        name: "store scheme", files: Broken.gateway("\"store\": \"mysql://db/x\""), file: "gateway.json",
        pointer: "/store"),
    ProblemCase(
        name: "unknown lifetime", files: Broken.gateway("\"lifetimes\": {\"assertionMaxx\": 60}"), file: "gateway.json",
        pointer: "/lifetimes/assertionMaxx"),
    ProblemCase(
        name: "zero lifetime", files: Broken.gateway("\"lifetimes\": {\"authorizationCode\": 0}"), file: "gateway.json",
        pointer: "/lifetimes/authorizationCode"),
    ProblemCase(
        name: "symmetric token algorithm", files: Broken.gateway("\"accessTokens\": {\"algorithm\": \"HS256\"}"),
        file: "gateway.json", pointer: "/accessTokens/algorithm"),
    ProblemCase(
        name: "missing signing key file", files: Broken.gateway("\"accessTokens\": {\"keyFile\": \"keys/none.pem\"}"),
        file: "gateway.json", pointer: "/accessTokens/keyFile"),
]

let appCases: [ProblemCase] = [
    ProblemCase(
        name: "appUser not in users.json",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": \(Broken.secret), \"appUser\": \"ghost\"}"],
        file: "apps/demo.json", pointer: "/appUser"),
    ProblemCase(
        name: "appUser missing with a shared secret",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": \(Broken.secret)}"], file: "apps/demo.json",
        pointer: "/appUser"),
    ProblemCase(
        name: "key missing", files: ["apps/demo.json": "{\"name\": \"x\"}"], file: "apps/demo.json", pointer: "/key"),
    ProblemCase(
        name: "shared secret too short",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": \"short\", \"appUser\": \"app-demo\"}"],
        file: "apps/demo.json", pointer: "/sharedSecret"),
    ProblemCase(
        name: "unknown app scope", files: Broken.app("\"scopes\": [\"READ\", \"REED\"]"), file: "apps/demo.json",
        pointer: "/scopes/1"),
    ProblemCase(
        name: "env secret not set",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": {\"env\": \"NOPE\"}, \"appUser\": \"app-demo\"}"],
        file: "apps/demo.json", pointer: "/sharedSecret"),
    ProblemCase(
        name: "file secret missing",
        files: [
            "apps/demo.json":
                "{\"key\": \"k\", \"sharedSecret\": {\"file\": \"secrets/none\"}, \"appUser\": \"app-demo\"}"
        ], file: "apps/demo.json", pointer: "/sharedSecret"),
    ProblemCase(
        name: "secret with env and file",
        files: [
            "apps/demo.json":
                "{\"key\": \"k\", \"sharedSecret\": {\"env\": \"A\", \"file\": \"b\"}, \"appUser\": \"app-demo\"}"
        ], environment: ["A": String(repeating: "a", count: 40)], file: "apps/demo.json", pointer: "/sharedSecret"),
    ProblemCase(
        name: "secret of wrong type",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": 42, \"appUser\": \"app-demo\"}"],
        file: "apps/demo.json", pointer: "/sharedSecret"),
    ProblemCase(
        name: "secret object with unknown key",
        files: ["apps/demo.json": "{\"key\": \"k\", \"sharedSecret\": {\"envv\": \"A\"}, \"appUser\": \"app-demo\"}"],
        file: "apps/demo.json", pointer: "/sharedSecret/envv"),
    ProblemCase(
        name: "redirect over plain http",
        files: Broken.oauth2("\"clientSecret\": \"s\", \"redirectUris\": [\"http://app.example.com/cb\"]"),
        file: "apps/demo.json", pointer: "/oauth2/redirectUris/0"),
    ProblemCase(
        name: "redirect with fragment",
        files: Broken.oauth2(
            "\"clientSecret\": \"s\", \"redirectUris\": [\"https://ok.example/cb\", \"https://app.example.com/cb#x\"]"),
        file: "apps/demo.json", pointer: "/oauth2/redirectUris/1"),
    ProblemCase(
        name: "relative redirect", files: Broken.oauth2("\"clientSecret\": \"s\", \"redirectUris\": [\"/cb\"]"),
        file: "apps/demo.json", pointer: "/oauth2/redirectUris/0"),
    ProblemCase(
        name: "public client with a secret",
        files: Broken.oauth2(
            "\"public\": true, \"clientSecret\": \"s\", \"redirectUris\": [\"http://localhost:1/cb\"]"),
        file: "apps/demo.json", pointer: "/oauth2/clientSecret"),
    ProblemCase(
        name: "confidential client without a secret",
        files: Broken.oauth2("\"redirectUris\": [\"http://127.0.0.1:1/cb\"]"), file: "apps/demo.json",
        pointer: "/oauth2/clientSecret"),
    ProblemCase(
        name: "public key file missing", files: Broken.oauth1("\"publicKeyFile\": \"keys/none.pem\""),
        file: "apps/demo.json", pointer: "/oauth1/publicKeyFile"),
    ProblemCase(
        name: "public key file not PEM", files: Broken.oauth1("\"publicKeyFile\": \"users.json\""),
        file: "apps/demo.json", pointer: "/oauth1/publicKeyFile"),
    ProblemCase(
        name: "executeAs unknown",
        files: Broken.oauth1(
            "\"publicKeyFile\": \"keys/consumer.public.pem\", \"twoLegged\": {\"enabled\": true, \"executeAs\": \"ghost\"}"
        ), file: "apps/demo.json", pointer: "/oauth1/twoLegged/executeAs"),
    ProblemCase(
        name: "executeAs missing",
        files: Broken.oauth1("\"publicKeyFile\": \"keys/consumer.public.pem\", \"twoLegged\": {\"enabled\": true}"),
        file: "apps/demo.json", pointer: "/oauth1/twoLegged/executeAs"),
]
