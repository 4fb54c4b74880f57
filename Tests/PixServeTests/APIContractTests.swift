import Foundation
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("API contract: the document states what the handlers check")
struct APIContractTests {
    /// A method a path does not support, on each route family, and the `Allow` header the answer must carry.
    static let unsupported: [(method: String, path: String, allow: String)] = [
        ("PUT", "/v1/jobs", "GET, POST"),
        ("POST", "/v1/projects/7", "DELETE, GET, PATCH"),
        ("DELETE", "/v1/me", "GET"),
        ("POST", "/healthz", "GET"),
        ("DELETE", "/", "GET"),
        ("GET", "/dashboard/jobs", "POST"),
        ("PUT", "/jobs/3", "GET"),
        ("POST", "/downloads/some-token", "GET"),
        ("DELETE", "/downloads/some-token/shard-000000.tar", "GET"),
    ]

    @Test("a method a path does not support answers 405 with Allow, on API, dashboard and download routes")
    func methodNotAllowed() async throws {
        try await TestServer.with(.sqlite) { server in
            for (method, path, allow) in Self.unsupported {
                let response = try await server.client.request(method, path)
                #expect(response.status == 405, "\(method) \(path): \(response.text)")
                #expect(response.headers["allow"] == allow, "\(method) \(path)")
                #expect(response.json["error"] as? String == "method_not_allowed", "\(method) \(path)")
            }
            let unknown = try await server.client.request("PUT", "/v1/no-such-thing")
            #expect(unknown.status == 404, "a path no route has stays 404")
            #expect(unknown.headers["allow"] == nil)
        }
    }

    /// The served document's schema of query parameter `name` of `method path`.
    static func querySchema(_ document: [String: Any], _ method: String, _ path: String, _ name: String) throws
        -> [String: Any]
    {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let operation = try #require(paths[path]?[method] as? [String: Any])
        let parameters = try #require(operation["parameters"] as? [[String: Any]])
        let parameter = try #require(parameters.first { $0["name"] as? String == name && $0["in"] as? String == "query" })
        return try #require(parameter["schema"] as? [String: Any])
    }

    /// The served document's schema of `property` of the body schema `schema`.
    static func propertySchema(_ document: [String: Any], _ schema: String, _ property: String) throws -> [String: Any] {
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let body = try #require(schemas[schema] as? [String: Any])
        return try #require((body["properties"] as? [String: Any])?[property] as? [String: Any])
    }

    @Test("GET /v1/jobs takes every limit the document allows and refuses the one past its maximum")
    func pageLimitFromDocument() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let document = try await server.client.get("/openapi.json").json
            let limit = try Self.querySchema(document, "get", "/v1/jobs", "limit")
            let minimum = try #require(limit["minimum"] as? Int)
            let maximum = try #require(limit["maximum"] as? Int)
            #expect(try await server.get("/v1/jobs?limit=\(minimum)", as: alice).status == 200)
            #expect(try await server.get("/v1/jobs?limit=\(maximum)", as: alice).status == 200)
            #expect(try await server.get("/v1/jobs?limit=\(maximum + 1)", as: alice).status == 400)
            #expect(try await server.get("/v1/jobs?limit=\(minimum - 1)", as: alice).status == 400)
        }
    }

    @Test("a project name of the document's maxLength is taken, one character more is refused")
    func projectNameFromDocument() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let document = try await server.client.get("/openapi.json").json
            let maxLength = try #require(try Self.propertySchema(document, "ProjectCreate", "name")["maxLength"] as? Int)
            // Counted as JSON Schema counts: Unicode scalars (an "e" and a combining accent are two).
            let longest = String(repeating: "e\u{301}", count: maxLength / 2) + String(repeating: "x", count: maxLength % 2)
            #expect(try await server.post("/v1/projects", as: alice, json: ["name": longest]).status == 201)
            let response = try await server.post("/v1/projects", as: alice, json: ["name": longest + "x"])
            #expect(response.status == 422)
            #expect(response.json["field"] as? String == "name")
        }
    }

    @Test("a name of white space only is refused, and the document's pattern says so")
    func blankNameFromDocument() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let document = try await server.client.get("/openapi.json").json
            let name = try Self.propertySchema(document, "TokenRequest", "name")
            // ICU's regular expressions read `\uHHHH` as ECMA-262 (JSON Schema's dialect) and Python do.
            let pattern = try NSRegularExpression(pattern: try #require(name["pattern"] as? String))
            func matches(_ text: String) -> Bool {
                pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            }
            for blank in [" ", "\u{1C}", "\u{3000}\t", "\u{2000}\u{205F}"] {
                #expect(!matches(blank), "\(blank.unicodeScalars.map(\.value))")
                #expect(try await server.post("/v1/tokens", as: alice, json: ["name": blank]).status == 422)
            }
            #expect(matches("\u{3000}a"))
            #expect(try await server.post("/v1/tokens", as: alice, json: ["name": "\u{3000}a"]).status == 201)
        }
    }
}
