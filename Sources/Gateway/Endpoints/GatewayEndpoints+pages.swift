import Foundation
import Grants
import HTTPTypes
import Hummingbird
import JWT
import NIOCore
import Policy

/// The browser side of 3LO: `/authorize`, `/login`, `/logout`, `/account/apps`.
extension GatewayEndpoints {
    /// A form-encoded body, at most 16 KiB, each field at most once.
    static func form<T: Decodable>(_ request: Request) async throws(PageFormError) -> T {
        let type = (request.headers[.contentType] ?? "").lowercased()
        guard type.hasPrefix("application/x-www-form-urlencoded") else { throw PageFormError() }
        do {
            let body = try await request.body.collect(upTo: 16 * 1024)
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: body))
        } catch {
            throw PageFormError()
        }
    }

    /// The parameters of a link's query.
    static func query<T: Decodable>(_ request: Request) throws(PageFormError) -> T {
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: request.uri.query ?? "")
        } catch {
            throw PageFormError()
        }
    }

    /// 405 as a page, for the browser endpoints.
    var pageMethodNotAllowed: @Sendable (String, GatewayRequestContext) throws -> Response {
        { [pages, live] allow, context in
            context.access.reason = "method_not_allowed"
            var response = pages.message(
                "Not here", "This page answers \(allow) only.", site: live.snapshot.policy.document.gateway.site.name,
                status: .methodNotAllowed, requestId: context.requestId)
            response.headers[.allow] = allow
            return response
        }
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
    func secureCookies(_ policy: CompiledPolicy) -> Bool {
        policy.document.gateway.baseUrl.lowercased().hasPrefix("https://")
    }
}

/// A form or link whose fields do not read: not url-encoded, over 16 KiB, or a
/// field missing or given twice.
struct PageFormError: Error {}

/// Answers a browser user's failures as pages: a form that does not read (400)
/// and, where `storeErrorsAsPages`, the store not answering (503). Everything
/// else goes on to `AccessLogMiddleware`.
struct PageErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let pages: PageRenderer
    let live: LivePolicy
    let storeErrorsAsPages: Bool

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let site = live.snapshot.policy.document.gateway.site.name
        do {
            return try await next(request, context)
        } catch let error as StoreError where storeErrorsAsPages {
            context.access.reason = "store_unavailable"
            return pages.message(
                "Try again in a moment", "The site's store did not answer (\(error.code.rawValue)).", site: site,
                status: .serviceUnavailable, requestId: context.requestId)
        } catch is PageFormError {
            context.access.reason = "bad_form"
            return pages.message(
                "This request is not valid", "The form or link could not be read: every field must appear once.",
                site: site, status: .badRequest, requestId: context.requestId)
        }
    }
}
