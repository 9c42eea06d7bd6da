import HTTPTypes
import Hummingbird
import JWT
import NIOCore

/// JSON answers of the OAuth endpoints: `Cache-Control: no-store` unless the
/// document is public (RFC 6749 §5.1). Errors are `GatewayError`s, answered by
/// `AccessLogMiddleware`.
enum OAuthResponses {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, cacheable: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.cacheControl] = cacheable ? "public, max-age=300" : "no-store"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(.compact))))
    }
}
