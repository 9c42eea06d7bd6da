import HTTPTypes
import Hummingbird
import JWT
import NIOCore
import NIOHTTP1

extension GatewayError {
    /// The JSON body: `{"error": …, "error_description": …, …details}`.
    var body: String {
        var members: [(String, JSONValue)] = [("error", .string(error)), ("error_description", .string(message))]
        members += details
        return JSONValue.object(JSONObject(members)).serialized(.compact)
    }

    /// The answer's headers: `Content-Type`, `Cache-Control: no-store`, the
    /// request id, the challenges, `Retry-After` or `Allow` where they apply.
    func answerHeaders(requestId: String) -> [(name: String, value: String)] {
        var headers = [
            (name: "Content-Type", value: "application/json"), (name: "Cache-Control", value: "no-store"),
            (name: "X-Request-Id", value: requestId),
        ]
        for challenge in challenges { headers.append((name: "WWW-Authenticate", value: challenge)) }
        if let seconds = retryAfter { headers.append((name: "Retry-After", value: String(seconds))) }
        if let allow { headers.append((name: "Allow", value: allow)) }
        return headers
    }

    /// The one function that turns an error into an answer on the Hummingbird
    /// path: the status, `answerHeaders` and the JSON body. The fast path writes
    /// the same parts (`DataPlaneHandler`).
    func response(requestId: String) -> Response {
        var headers = HTTPFields()
        for header in answerHeaders(requestId: requestId) {
            headers.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value))
        }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension GatewayError {
    /// The whole answer as HTTP/1.1 bytes, closing the connection: for answers
    /// written straight to a socket, outside any request (a connection over the
    /// limit, a request head that never completed).
    func closingMessage(requestId: String) -> String {
        message(requestId: requestId, closing: true)
    }

    /// The whole answer as HTTP/1.1 bytes; `closing` adds `Connection: close`.
    /// The byte path (`ByteFrontHandler`) writes its answers this way.
    func message(requestId: String, closing: Bool) -> String {
        // NIO's table knows the standard phrases; `HTTPResponse.Status(code:)` leaves them empty.
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        var message = "HTTP/1.1 \(status) \(reason)\r\n"
        for header in answerHeaders(requestId: requestId) { message += "\(header.name): \(header.value)\r\n" }
        if closing { message += "Connection: close\r\n" }
        return message + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
