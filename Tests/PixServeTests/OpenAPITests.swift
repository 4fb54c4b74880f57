import Foundation
import Hummingbird
import PixBlob
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("every registered route is documented, and every documented operation is registered")
    func routesMatchDocument() async throws {
        let store = try await TestStores.make(.sqlite)
        defer { store.close() }
        let server = PixServer(
            store: store, readiness: StoreReadiness(store: store, migrationsDirectory: TestStores.migrationsDirectory),
            planner: TestServer.planner(),
            exports: StoreExportService(
                store: store, blobs: LocalBlobStore(root: FileManager.default.temporaryDirectory),
                exportsDirectory: FileManager.default.temporaryDirectory))
        let router = server.makeRouter()
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = OpenAPIDocument.operationKeys
        #expect(registered.count > 25)
        #expect(registered.subtracting(documented).isEmpty, "routes missing from the document")
        #expect(documented.subtracting(registered).isEmpty, "documented operations with no route")
    }

    @Test("GET /openapi.json serves a 3.1 document whose paths and methods are the catalog's", arguments: [Backend.sqlite])
    func served(_ backend: Backend) async throws {
        try await TestServer.with(backend) { server in
            let response = try await server.client.get("/openapi.json")
            #expect(response.status == 200)
            let document = response.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var operations = Set<String>()
            for (path, item) in paths {
                for (method, operation) in item {
                    operations.insert("\(method.uppercased()) \(path)")
                    let responses = (operation as? [String: Any])?["responses"] as? [String: Any]
                    #expect(responses?.isEmpty == false, "\(method) \(path) documents its responses")
                }
            }
            #expect(operations == OpenAPIDocument.operationKeys)
            let jobPost = try #require(paths["/v1/jobs"]?["post"] as? [String: Any])
            #expect((jobPost["responses"] as? [String: Any])?.keys.contains("422") == true)
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            #expect(schemas["Error"] != nil)
            #expect(schemas["JobSubmission"] != nil)
        }
    }
}
