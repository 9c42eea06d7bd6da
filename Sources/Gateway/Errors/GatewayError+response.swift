import HTTPTypes
import Hummingbird
import JWT
import NIOCore

extension GatewayError {
    /// The JSON body: `{"error": …, "error_description": …, …details}`.
    var body: String {
        var members: [(String, JSONValue)] = [("error", .string(error)), ("error_description", .string(message))]
        members += details
        return JSONValue.object(JSONObject(members)).serialized(.compact)
    }

    /// The one function that turns an error into an answer: the status, the JSON
    /// body, `Cache-Control: no-store`, the challenges, `Retry-After` or `Allow`
    /// where they apply, and the request id.
    func response(requestId: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store", .xRequestID: requestId]
        for challenge in challenges { headers.append(HTTPField(name: .wwwAuthenticate, value: challenge)) }
        if let seconds = retryAfter { headers[.retryAfter] = String(seconds) }
        if let allow { headers[.allow] = allow }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
