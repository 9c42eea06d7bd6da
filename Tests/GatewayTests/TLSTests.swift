import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOSSL
import Policy
import TestSupport
import Testing

@testable import Gateway

/// The TLS pieces (docs/tls.md): a listener's certificate and its reload, the
/// refusal of plain HTTP on a TLS port, upstream client contexts and the
/// forwarded scheme. Handshakes with real clients are tested end to end.
@Suite("TLS: listener certificates, reloads, plain-HTTP refusal, upstream contexts")
struct TLSTests {
    static func files(_ pair: TestCertificates.Pair) -> ListenerTLSFiles {
        ListenerTLSFiles(
            certificateFile: "cert.pem", keyFile: "key.pem", certificatePath: pair.certificate, keyPath: pair.key)
    }

    @Test("a certificate chain and its key make a context; a key of another certificate is refused with the reason")
    func loadsAndRefuses() throws {
        let authority = try TestCertificates()
        let server = try authority.issue("server", commonName: "localhost", names: ["localhost"], chain: true)
        let other = try authority.issue("other", commonName: "other", names: ["other.example"])
        _ = try ListenerCertificate(listener: .main, files: Self.files(server))
        let mismatched = TestCertificates.Pair(certificate: server.certificate, key: other.key)
        #expect {
            try ListenerCertificate(listener: .main, files: Self.files(mismatched))
        } throws: { error in
            (error as? TLSFilesError)?.message.contains("does the key belong to the certificate?") == true
        }
        let missing = TestCertificates.Pair(certificate: server.certificate + ".gone", key: server.key)
        #expect {
            try ListenerCertificate(listener: .main, files: Self.files(missing))
        } throws: { error in
            (error as? TLSFilesError)?.message.hasPrefix("cannot read the certificates of cert.pem") == true
        }
    }

    @Test("a reload swaps the context only when the files changed, and keeps the old one when the new files are bad")
    func reloads() throws {
        let authority = try TestCertificates()
        let first = try authority.issue("first", commonName: "localhost", names: ["localhost"])
        let second = try authority.issue("second", commonName: "localhost", names: ["localhost"])
        let files = Self.files(first)
        let certificate = try ListenerCertificate(listener: .main, files: files)
        let original = certificate.context
        #expect(certificate.reload(files, force: false) == .unchanged)
        #expect(certificate.context === original)
        #expect(certificate.reload(files, force: true) == .reloaded)
        #expect(certificate.context !== original)

        // New contents under the same names.
        try FileManager.default.removeItem(atPath: first.certificate)
        try FileManager.default.copyItem(atPath: second.certificate, toPath: first.certificate)
        try FileManager.default.removeItem(atPath: first.key)
        try FileManager.default.copyItem(atPath: second.key, toPath: first.key)
        let beforeSwap = certificate.context
        #expect(certificate.reload(files, force: false) == .reloaded)
        #expect(certificate.context !== beforeSwap)

        // A broken certificate: refused, the context in force stays, and it is not tried again until it changes.
        try "not a certificate".write(toFile: first.certificate, atomically: false, encoding: .utf8)
        let good = certificate.context
        guard case .failed(let reason) = certificate.reload(files, force: false) else {
            Issue.record("a broken certificate file was not refused")
            return
        }
        #expect(reason.contains("cert.pem"))
        #expect(certificate.context === good)
        #expect(certificate.reload(files, force: false) == .unchanged)
    }

    @Test("plain HTTP on a TLS port gets a plain 400 plain_http_to_tls and the connection closes")
    func refusesPlainHTTP() throws {
        let channel = EmbeddedChannel(handler: PlainHTTPRefusal())
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: example\r\n\r\n"))
        let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let text = String(buffer: answer)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(text.contains("Connection: close"))
        #expect(
            text.hasSuffix(
                "\r\n\r\n{\"error\":\"invalid_request\",\"error_description\":\"this port speaks HTTPS: send the request over TLS (https://), not plain HTTP\"}"
            ))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
    }

    @Test("a TLS handshake record passes on untouched and the refusal leaves the pipeline")
    func passesHandshake() throws {
        let refusal = PlainHTTPRefusal()
        let channel = EmbeddedChannel(handler: refusal)
        let hello = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])
        try channel.writeInbound(hello)
        #expect(try channel.readInbound(as: ByteBuffer.self) == hello)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.context(handler: refusal) }
        _ = try channel.finish()
    }

    @Test("an upstream's TLS: its own CA and client certificate, the name verified, and a pool key per file set")
    func upstreamContexts() throws {
        let authority = try TestCertificates()
        let client = try authority.issue("client", commonName: "gateway", client: true)
        func file(_ path: String) -> UpstreamTLSFiles.File { .init(written: path, path: path) }
        let plain = try UpstreamTLS(files: nil, host: "api.example")
        #expect(plain.serverName == "api.example")
        #expect(try UpstreamTLS(files: nil, host: "127.0.0.1").serverName == nil)
        let named = try UpstreamTLS(
            files: UpstreamTLSFiles(caFile: file(authority.ca.certificate), serverName: "api.internal"),
            host: "127.0.0.1")
        #expect(named.serverName == "api.internal")
        let mutual = try UpstreamTLS(
            files: UpstreamTLSFiles(
                caFile: file(authority.ca.certificate), certificateFile: file(client.certificate),
                keyFile: file(client.key)),
            host: "127.0.0.1")
        #expect(Set([plain.poolKey, named.poolKey, mutual.poolKey]).count == 3)
        #expect {
            try UpstreamTLS(files: UpstreamTLSFiles(caFile: file(client.key)), host: "127.0.0.1")
        } throws: { error in
            (error as? TLSFilesError)?.message.contains("cannot read the certificates of") == true
        }
    }

    @Test("an upstream named https:// with TLS files fails to load with the upstream and the file in the message")
    func upstreamTargetProblem() {
        var spec = UpstreamSpec(name: "api", url: "https://127.0.0.1:9443", source: PolicyLocation(file: "routes.json"))
        spec.tls = UpstreamTLSFiles(caFile: .init(written: "ca.pem", path: "/nonexistent/ca.pem"))
        #expect {
            try UpstreamTarget(spec)
        } throws: { error in
            "\(error)".contains("/upstreams/api/tls") && "\(error)".contains("ca.pem")
        }
    }

    @Test("a request that came over TLS is forwarded with X-Forwarded-Proto https and proto=https")
    func forwardedScheme() {
        let identity = ForwardedIdentity(accountId: nil, appKey: nil, auth: "none", scopeList: "")
        let headers = ForwardedHeaders.request(
            from: HTTPFields(), authority: "gw", identity: identity, requestId: "rid", clientAddress: "127.0.0.1",
            isSecure: true)
        #expect(headers["X-Forwarded-Proto"] == ["https"])
        #expect(headers["Forwarded"] == ["for=127.0.0.1;host=\"gw\";proto=https"])
    }
}
