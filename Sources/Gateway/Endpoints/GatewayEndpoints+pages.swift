import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import NIOCore

/// The browser side of 3LO: `/authorize`, `/login`, `/logout`, `/account/apps`.
extension GatewayEndpoints {
    func page(_ endpoint: Endpoint, request: Request, context: GatewayRequestContext, policy: CompiledPolicy,
              record: inout AccessRecord) async -> Response {
        record.credential = "session"
        let site = policy.document.gateway.site.name
        do {
            switch (endpoint, request.method) {
            case (.authorize, .get):
                let query = request.uri.query ?? ""
                let parameters = try URLEncodedFormDecoder().decode(AuthorizationParameters.self, from: query)
                return try await authorization(parameters, submitted: false, request: request, policy: policy, record: &record)
            case (.authorize, .post):
                let parameters: AuthorizationParameters = try await Self.form(request)
                return try await authorization(parameters, submitted: true, request: request, policy: policy, record: &record)
            case (.login, .get):
                return try await loginPage(request, policy: policy, record: &record)
            case (.login, .post):
                return try await login(request, address: context.clientAddress, policy: policy, record: &record)
            case (.logout, .post):
                return try await logout(request, policy: policy, record: &record)
            case (.accountApps, .get):
                return try await connectedApps(request, policy: policy, notice: nil, record: &record)
            case (.accountAppsRevoke, .post):
                return try await revokeApp(request, policy: policy, record: &record)
            case (.authorize, _), (.accountApps, _), (.login, _):
                return methodNotAllowed("GET, POST", record: &record)
            default:
                return methodNotAllowed("POST", record: &record)
            }
        } catch let error as StoreError {
            metrics?.storeError()
            record.reason = "store_unavailable"
            return pages.message("Try again in a moment", "The site's store did not answer (\(error.code.rawValue)).", site: site,
                                 status: .serviceUnavailable, requestId: record.requestId)
        } catch {
            record.reason = "bad_form"
            return pages.message("This request is not valid", "The form or link could not be read: every field must appear once.",
                                 site: site, status: .badRequest, requestId: record.requestId)
        }
    }

    /// A form-encoded body, at most 16 KiB.
    static func form<T: Decodable>(_ request: Request) async throws -> T {
        let type = (request.headers[.contentType] ?? "").lowercased()
        guard type.hasPrefix("application/x-www-form-urlencoded") else { throw PageFormError() }
        let body = try await request.body.collect(upTo: 16 * 1024)
        return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: body))
    }

    struct PageFormError: Error {}

    func methodNotAllowed(_ allow: String, record: inout AccessRecord) -> Response {
        record.reason = "method_not_allowed"
        var response = pages.message("Not here", "This page answers \(allow) only.", site: live.snapshot.policy.document.gateway.site.name,
                                     status: .methodNotAllowed, requestId: record.requestId)
        response.headers[.allow] = allow
        return response
    }

    /// `303 See Other` to `location`, with the security headers of the pages and any cookies.
    func seeOther(_ location: String, cookies: [Cookie] = [], requestId: String) -> Response {
        var headers = PageRenderer.securityHeaders(pages.contentSecurityPolicy)
        headers[.location] = location
        headers[.xRequestID] = requestId
        var response = Response(status: .seeOther, headers: headers)
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// Whether cookies must be `Secure`: the site is served over https.
    func secureCookies(_ policy: CompiledPolicy) -> Bool { policy.document.gateway.baseUrl.lowercased().hasPrefix("https://") }
}
