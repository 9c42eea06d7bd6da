import Grants
import HTTPTypes
import Hummingbird
import Logging

/// Around every request on the main listener, the gateway's endpoints and the
/// proxy alike: gives it a request id, turns what it throws into the answer
/// (`GatewayError(answering:realm:)`), then writes one access-log line, the audit
/// entry (for a refusal or an endpoint's answer; for an allowed proxied request
/// only with `auditAllowedRequests`) and the request metrics (docs/gateway.md §8).
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let live: LivePolicy
    let recorder: RequestRecorder
    /// For what goes wrong unexpectedly, at error level.
    let logger: Logger
    var metrics: GatewayMetrics? { recorder.metrics }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let requestId = RequestID.resolve(request.headers[values: .xRequestID].first)
        context.access.note {
            $0.requestId = requestId
            $0.method = request.method.rawValue
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let answer = GatewayError(answering: error, realm: live.snapshot.policy.document.gateway.baseUrl)
            switch answer.code {
            case .storeUnavailable: metrics?.storeError()
            case .serverError: logger.error("unexpected failure", metadata: ["error_type": "\(type(of: error))"])
            default: break
            }
            context.access.reason = answer.reason
            response = answer.response(requestId: requestId)
        }
        if response.headers[.xRequestID] == nil { response.headers[.xRequestID] = requestId }
        let status = response.status.code
        let latency = ContinuousClock.now - started
        context.access.note {
            // An endpoint's success is an allow; a redirect or page is one only where the
            // endpoint said so (a code issued, a sign-in), never a redirect carrying an error.
            if $0.isEndpoint { $0.allowed = $0.allowed || status < 300 }
            $0.status = status
            $0.latency = latency
        }
        recorder.record(context.access.record)
        return response
    }
}
