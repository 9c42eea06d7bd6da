import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The admin listener's `GET /openapi.yaml` (docs/gateway.md §7): the copy built
/// into the module is docs/openapi.yaml, byte for byte, and is served as YAML.
@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    static let repositoryFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")

    @Test("the module's resource is docs/openapi.yaml, byte for byte (copy it over after an edit)")
    func resourceIsTheRepositoryFile() throws {
        let resource = try #require(AdminRoutes.openAPIDocument, "openapi.yaml is missing from the resources")
        let source = [UInt8](try Data(contentsOf: Self.repositoryFile))
        #expect(
            resource == source,
            "Sources/Gateway/Server/openapi.yaml differs from docs/openapi.yaml: cp docs/openapi.yaml Sources/Gateway/Server/"
        )
        #expect(String(decoding: source, as: UTF8.self).hasPrefix("openapi: 3.1."))
    }

    @Test("GET /openapi.yaml answers the document as application/yaml")
    func served() async throws {
        let router = Router()
        AdminRoutes.addOpenAPI(to: router)
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(Array(response.body.readableBytesView) == AdminRoutes.openAPIDocument)
            let post = try await client.execute(uri: "/openapi.yaml", method: .post)
            #expect(post.status != .ok)
        }
    }
}
