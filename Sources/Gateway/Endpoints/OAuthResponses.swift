import Grants
import HTTPTypes
import Hummingbird
import JWT
import NIOCore

/// JSON answers of the OAuth endpoints: `Cache-Control: no-store` always
/// (RFC 6749 §5.1), errors per RFC 6749 §5.2 with a Basic challenge on 401.
enum OAuthResponses {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, requestId: String, cacheable: Bool = false)
        -> Response
    {
        var headers: HTTPFields = [.contentType: "application/json", .xRequestID: requestId]
        headers[.cacheControl] = cacheable ? "public, max-age=300" : "no-store"
        return Response(status: status, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(.compact))))
    }

    static func error(_ error: OAuthError, requestId: String) -> Response {
        var response = json(
            .object(JSONObject([("error", .string(error.code.rawValue)), ("error_description", .string(error.message))])),
            status: HTTPResponse.Status(code: error.status), requestId: requestId)
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Basic realm=\"\(GatewayError.realm)\"" }
        return response
    }

    static func methodNotAllowed(allow: String, requestId: String) -> Response {
        var response = json(
            .object(JSONObject([("error", "invalid_request"),
                                ("error_description", .string("this endpoint answers \(allow) only"))])),
            status: .methodNotAllowed, requestId: requestId)
        response.headers[.allow] = allow
        return response
    }
}
