import Foundation
import Grants
import HTTPTypes
import Hummingbird
import NIOCore

/// The admin listener (docs/gateway.md §7): `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`.
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
        addOpenAPI(to: router)
        return router
    }

    /// `GET /openapi.yaml`: the document, `application/yaml`.
    static func addOpenAPI(to router: Router<BasicRequestContext>) {
        let document = openAPIDocument
        router.get("/openapi.yaml") { _, _ in
            guard let document else {
                return text("the OpenAPI document is missing from linkgate's resources\n", status: .notFound)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }

    /// The OpenAPI 3.1 document of every answer the gateway writes itself: the
    /// module's copy of docs/openapi.yaml (a unit test keeps the two identical);
    /// nil in a broken install.
    static let openAPIDocument: [UInt8]? = Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        .flatMap { try? Data(contentsOf: $0) }.map { [UInt8]($0) }

    private static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
