import Foundation
import HTTPTypes
import Hummingbird
import JWT
import Mustache
import NIOCore
import Policy

/// Server-rendered pages (login, consent, connected apps, errors) from the
/// swift-mustache templates shipped as the module's resources. Every page is
/// plain HTML with one inline stylesheet, usable without JavaScript, and is sent
/// with headers that keep it out of frames and caches.
struct PageRenderer: Sendable {
    enum Template: String {
        case login, consent, apps, message, oauth1
    }

    let library: MustacheLibrary
    let css: String
    /// `Content-Security-Policy`: nothing but the one stylesheet (by hash), no framing.
    let contentSecurityPolicy: String

    /// Loads the templates from the bundle.
    /// - Throws: `GatewaySetupError` when the resources are missing (a broken install).
    static func load() async throws -> PageRenderer {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Templates"),
            let css = try? String(contentsOf: folder.appendingPathComponent("style.css"), encoding: .utf8)
        else {
            throw GatewaySetupError("the page templates are missing from linkgate's resources (Templates/)")
        }
        let library: MustacheLibrary
        do {
            library = try await MustacheLibrary(directory: folder.path)
        } catch {
            throw GatewaySetupError("the page templates could not be read: \(error)")
        }
        return PageRenderer(library: library, css: css)
    }

    init(library: MustacheLibrary, css: String) {
        self.library = library
        self.css = css
        let hash = Base64URL.encode(Digest.sha256.hash(Array(css.utf8)))
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = hash + String(repeating: "=", count: (4 - hash.count % 4) % 4)
        contentSecurityPolicy =
            "default-src 'none'; style-src 'sha256-\(padded)'; img-src 'self' data:; "
            + "base-uri 'none'; frame-ancestors 'none'"
    }

    /// The page as a response, with the security headers of every page.
    func page(
        _ template: Template, _ values: [String: Any], site: String, status: HTTPResponse.Status = .ok,
        requestId: String
    ) -> Response {
        var context = values
        context["css"] = css
        context["site"] = site
        if context["title"] == nil { context["title"] = site }
        let html =
            library.render(context, withTemplate: template.rawValue)
            ?? "<!DOCTYPE html><title>Error</title><p>The page could not be rendered.</p>"
        var headers = Self.securityHeaders(contentSecurityPolicy)
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.xRequestID] = requestId
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that only says something: an error the user can read (never a redirect).
    func message(
        _ heading: String, _ message: String, detail: String? = nil, isError: Bool = true, site: String,
        status: HTTPResponse.Status, requestId: String
    ) -> Response {
        var values: [String: Any] = ["heading": heading, "message": message, "isError": isError, "title": heading]
        if let detail { values["detail"] = detail }
        return page(.message, values, site: site, status: status, requestId: requestId)
    }

    static func securityHeaders(_ policy: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        headers[.xFrameOptions] = "DENY"
        headers[.contentSecurityPolicy] = policy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        return headers
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

/// Plain-language descriptions of scopes for the consent page.
enum ScopeDescriptions {
    static let known: [String: String] = [
        "read:jira-user": "See user profiles: names, and email addresses where you may see them.",
        "read:jira-work": "Read projects, issues, comments, attachments and worklogs.",
        "write:jira-work": "Create and edit issues, comments, attachments and worklogs.",
        "manage:jira-project": "Change project settings, components and versions.",
        "manage:jira-configuration": "Change the site's configuration.",
        "manage:jira-webhook": "Register and remove webhooks.",
        "read:me": "See your own profile: name, email address and avatar.",
        "offline_access": "Keep this access while you are away (the app gets a refresh token).",
    ]

    static func describe(_ scope: String) -> String {
        known[scope] ?? "Whatever the site allows under the scope \(scope)."
    }
}
