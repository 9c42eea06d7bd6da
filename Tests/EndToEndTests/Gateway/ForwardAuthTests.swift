import Foundation
import Testing

/// Forward authorization through a real nginx (docs/forward-auth.md): nginx's
/// `auth_request` asks the gateway's authz listener, copies the identity headers
/// to the upstream, and forwards only what the gateway allowed.
@Suite(
    "Forward authorization: nginx auth_request in front of the echo upstream",
    .enabled(if: NginxAuthRequest.binary != nil, "needs nginx (make test installs Debian's nginx)"))
struct ForwardAuthEndToEndTests {
    static let project = "/rest/api/3/project/PROJ?b=x%20y&a=1"

    @Test("allow, 401, 403, jwt in the query, spoofed identity headers, and nothing forwarded on a denial")
    func nginxAuthRequest() async throws {
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["authzListen"] = "127.0.0.1:0"
            }
        }
        let authzPort = try await gateway.gateway.port(after: "authz listener on http://127.0.0.1")
        let nginx = try await NginxAuthRequest(authzPort: authzPort, upstreamPort: gateway.echoPort)
        defer { nginx.stop() }
        let token = try gateway.connectToken(method: "GET", target: Self.project)

        let allowed = try await gateway.send(
            .GET, Self.project,
            headers: [("Authorization", "JWT \(token)"), ("X-Linkgate-Account-Id", "spoofed")], port: nginx.port)
        #expect(allowed.status == 200)
        #expect(allowed.forwardedTarget == Self.project, "nginx forwards the target it asked about")
        #expect(allowed.forwardedHeaders["x-linkgate-app"] == [GatewayFixture.reportsKey])
        #expect(allowed.forwardedHeaders["x-linkgate-auth"] == ["jwt"])
        #expect(allowed.forwardedHeaders["x-linkgate-account-id"] == ["app-reports"], "the client's value is gone")
        #expect(allowed.forwardedHeaders["authorization"] == nil)

        let viaQuery = try await gateway.send(
            .GET, "/rest/api/3/project/PROJ?b=x%20y&jwt=\(token)&a=1", port: nginx.port)
        #expect(viaQuery.status == 200)

        // Anonymous on a public route: no app, and the client's spoofed one does not pass.
        let spoofed = try await gateway.send(
            .GET, "/status", headers: [("X-Linkgate-App", "evil"), ("X-Linkgate-Auth", "jwt")], port: nginx.port)
        #expect(spoofed.status == 200)
        #expect(spoofed.forwardedHeaders["x-linkgate-app"] == nil)
        #expect(spoofed.forwardedHeaders["x-linkgate-auth"] == ["anonymous"])

        let before = try await gateway.upstreamCount()
        let anonymous = try await gateway.send(.GET, Self.project, port: nginx.port)
        #expect(anonymous.status == 401)
        // nginx passes the first challenge on (docs/forward-auth.md).
        #expect(anonymous.headers["WWW-Authenticate"] == ["Bearer realm=\"linkgate\""])
        let deleteToken = try gateway.connectToken(method: "DELETE", target: Self.project)
        let forbidden = try await gateway.send(
            .DELETE, Self.project, headers: [("Authorization", "JWT \(deleteToken)")], port: nginx.port)
        #expect(forbidden.status == 403)
        let unrouted = try await gateway.send(
            .GET, "/nowhere", headers: [("Authorization", "JWT \(token)")], port: nginx.port)
        #expect(unrouted.status == 401, "a token bound to another request is refused")
        #expect(try await gateway.upstreamCount() == before, "nothing reaches the upstream on a denial")
        // The access log is written in batches: wait for the authz listener's lines.
        _ = try await gateway.gateway.waitForLine(after: "mode=authz", timeout: 10)
    }

    @Test("Traefik's and Envoy's request shapes, through the real binary; Envoy's path prefix is removed")
    func traefikAndEnvoyShapes() async throws {
        let gateway = try await GatewayFixture { folder in
            try GatewayFixture.editJSON(folder.appendingPathComponent("gateway.json")) {
                $0["authzListen"] = "127.0.0.1:0"
                $0["authzPathPrefix"] = "/ext-authz"
            }
        }
        let authzPort = try await gateway.gateway.port(after: "authz listener on http://127.0.0.1")
        let token = try gateway.connectToken(method: "GET", target: Self.project)
        // Traefik forwardAuth: GET to the configured address, the original in X-Forwarded-*.
        let traefik = try await gateway.send(
            .GET, "/",
            headers: [
                ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "jira.example"),
                ("X-Forwarded-Uri", Self.project), ("X-Forwarded-For", "203.0.113.7"),
                ("Authorization", "JWT \(token)"),
            ], port: authzPort)
        #expect(traefik.status == 200)
        #expect(traefik.headers["X-Linkgate-App"] == [GatewayFixture.reportsKey])
        #expect(traefik.body.isEmpty)
        // Envoy ext_authz (HTTP service): the original method, path_prefix + the original path.
        let envoy = try await gateway.send(
            .GET, "/ext-authz" + Self.project, headers: [("Authorization", "JWT \(token)")], port: authzPort)
        #expect(envoy.status == 200)
        #expect(envoy.headers["X-Linkgate-Auth"] == ["jwt"])
        let outside = try await gateway.send(.GET, Self.project, port: authzPort)
        #expect(outside.status == 400, "a path without the prefix is not guessed at")
        #expect(try await gateway.upstreamCount() == 0)
    }
}

/// nginx with `auth_request` pointing at the authz listener, configured as
/// docs/forward-auth.md shows, in a temporary folder, in the foreground, as one
/// process (`master_process off`: stopping it leaves no worker behind).
final class NginxAuthRequest: @unchecked Sendable {
    static let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    let folder: URL
    let port: Int
    private let process: ServerProcess

    init(authzPort: Int, upstreamPort: Int) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("linkgate-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try GatewayFixture.closedPort()
        let configuration = folder.appendingPathComponent("nginx.conf")
        try Self.configuration(folder: folder.path, port: port, authzPort: authzPort, upstreamPort: upstreamPort)
            .write(to: configuration, atomically: true, encoding: .utf8)
        process = try ServerProcess(
            URL(fileURLWithPath: Self.binary ?? "/usr/sbin/nginx"),
            ["-p", folder.path, "-c", configuration.path, "-e", folder.appendingPathComponent("error.log").path],
            name: "nginx")
        let deadline = Date().addingTimeInterval(15)
        while !RunDemoEndToEndTests.accepts(port: port) {
            guard Date() < deadline, process.isRunning else {
                let log = (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
                throw ServerProcess.StartupError(description: "nginx did not start: \(process.text)\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    static func configuration(folder: String, port: Int, authzPort: Int, upstreamPort: Int) -> String {
        """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(folder)/nginx.pid;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path \(folder)/body;
            proxy_temp_path \(folder)/proxy;
            fastcgi_temp_path \(folder)/fastcgi;
            uwsgi_temp_path \(folder)/uwsgi;
            scgi_temp_path \(folder)/scgi;
            server {
                listen 127.0.0.1:\(port);
                location = /_linkgate_authz {
                    internal;
                    proxy_pass http://127.0.0.1:\(authzPort);
                    proxy_pass_request_body off;
                    proxy_set_header Content-Length "";
                    proxy_set_header X-Original-Method $request_method;
                    proxy_set_header X-Original-URI $request_uri;
                }
                location / {
                    auth_request /_linkgate_authz;
                    auth_request_set $linkgate_account $upstream_http_x_linkgate_account_id;
                    auth_request_set $linkgate_app $upstream_http_x_linkgate_app;
                    auth_request_set $linkgate_auth $upstream_http_x_linkgate_auth;
                    auth_request_set $linkgate_scopes $upstream_http_x_linkgate_scopes;
                    auth_request_set $linkgate_request $upstream_http_x_request_id;
                    proxy_set_header X-Linkgate-Account-Id $linkgate_account;
                    proxy_set_header X-Linkgate-App $linkgate_app;
                    proxy_set_header X-Linkgate-Auth $linkgate_auth;
                    proxy_set_header X-Linkgate-Scopes $linkgate_scopes;
                    proxy_set_header X-Request-Id $linkgate_request;
                    proxy_set_header Authorization "";
                    proxy_pass http://127.0.0.1:\(upstreamPort);
                }
            }
        }
        """
    }
}
