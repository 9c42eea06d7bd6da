import HTTPTypes
import Hummingbird
import NIOCore

extension GatewayEndpoints {
    /// The path of the install key endpoint; `{kid}` is one path segment.
    static let installKeyPath = "/connect-install-keys/{kid}"

    /// `GET /connect-install-keys/{kid}`: the PEM public key that verifies the
    /// lifecycle callbacks `linkgate app install` sends to Connect apps
    /// (docs/connect-install.md). The key is in the store, so every gateway
    /// sharing it answers the same; an unknown `kid` is a 404.
    var installKeyRoutes: Routes {
        let routes = Routes(context: GatewayRequestContext.self)
        routes.answer(
            RouterPath(Self.installKeyPath), [.get, .head], otherwise: jsonMethodNotAllowed, recording: methods
        ) {
            _, context in
            context.access.reason = "install_key"
            let kid = context.parameters.get("kid") ?? ""
            guard let pem = try await grants.store.connectInstallPublicKey(kid: kid) else {
                throw GatewayError(.unknownInstallKey, "no install key has the kid \(kid)")
            }
            // A kid names one key for good, so its answer may be kept.
            let headers: HTTPFields = [.contentType: "application/x-pem-file", .cacheControl: "public, max-age=3600"]
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: pem)))
        }
        return routes
    }
}
