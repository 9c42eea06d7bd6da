import Grants
import HTTPTypes
import Hummingbird
import NIOCore

/// The admin listener (docs/gateway.md §7): `/healthz`, `/readyz` and `/metrics`.
enum AdminRoutes {
    static func router(live: LivePolicy, metrics: GatewayMetrics, store: Store) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in
            text("ok\n")
        }
        router.get("/readyz") { _, _ in
            let snapshot = live.snapshot
            do {
                try await store.ping()
            } catch {
                metrics.storeError()
                return text("not ready: the store does not answer: \(error)\n", status: .serviceUnavailable)
            }
            return text("ready: policy generation \(snapshot.generation), \(snapshot.summary), store reachable\n")
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        return router
    }

    private static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
