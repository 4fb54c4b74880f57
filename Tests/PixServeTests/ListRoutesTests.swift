import Foundation
import PixBlob
import PixCore
import PixServe
import PixSources
import PixStore
import PixTestSupport
import Testing

@Suite("URL list uploads")
struct ListRoutesTests {
    static let csv = Array(
        "image,text\nhttps://img.example/1.jpg,a fox\nhttps://img.example/2.jpg,two foxes\nhttps://img.example/3.jpg,\n"
            .utf8)

    func upload(
        _ server: TestServer, as user: TestUser, _ body: [UInt8], query: String = "?url_col=image",
        type: String = "text/csv"
    ) async throws -> HTTPResult {
        try await server.client.request(
            "POST", "/v1/lists\(query)", token: user.token, body: body, headers: ["Content-Type": type])
    }

    @Test("an uploaded list is staged and answered with its sha256 and row count")
    func uploadStagesTheList() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let response = try await upload(server, as: alice, Self.csv)
            #expect(response.status == 201, "\(response.text)")
            let id = try #require(response.json["sha256"] as? String)
            #expect(URLListStaging.isListID(id))
            #expect(response.json["rows"] as? Int == 3)
            #expect(response.json["columns"] as? [String] == ["image", "text"])
            #expect(try server.lists.read(URLListStaging.dataKey(id), at: 0, count: 4096) == Self.csv)
            #expect(try await server.store.list(ownerID: alice.profile.id, sha256: id)?.rows == 3)
        }
    }

    @Test("GET /v1/lists and /v1/lists/{id} show only the caller's lists; another user's is 404")
    func listsAreOwnerScoped() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            #expect(try await server.get("/v1/lists", as: alice).items.map { $0["sha256"] as? String } == [id])
            #expect(try await server.get("/v1/lists/\(id)", as: alice).json["rows"] as? Int == 3)
            #expect(try await server.get("/v1/lists", as: bob).items.isEmpty)
            #expect(try await server.get("/v1/lists/\(id)", as: bob).status == 404)
        }
    }

    @Test("an upload past --max-list-bytes is refused with 413 and leaves no list")
    func oversizedUploadIsRefused() async throws {
        try await TestServer.with(.sqlite, maxListBytes: 64) { server in
            let alice = try await server.makeUser("alice")
            let response = try await upload(server, as: alice, Self.csv)
            #expect(response.status == 413)
            #expect(try await server.store.lists(ownerID: alice.profile.id).isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: server.uploadDirectory.path)) ?? [] == [])
        }
    }

    @Test("a streamed upload without a length is cut off with 413 once it passes --max-list-bytes")
    func oversizedStreamIsCutOff() async throws {
        try await TestServer.with(.sqlite, maxListBytes: 64) { server in
            let alice = try await server.makeUser("alice")
            let chunk = String(format: "%x", Self.csv.count)
            let head =
                "POST /v1/lists?url_col=image HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(alice.token)\r\n"
                + "Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\(chunk)\r\n"
            let socket = try RawConnection(port: server.port)
            defer { socket.close() }
            try socket.send(Array(head.utf8) + Self.csv + Array("\r\n0\r\n\r\n".utf8))
            let response = try HTTPTestClient.parse(socket.receiveAll(), method: "POST")
            #expect(response.status == 413)
            #expect(try await server.store.lists(ownerID: alice.profile.id).isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: server.uploadDirectory.path)) ?? [] == [])
        }
    }

    @Test("a CSV list without a URL column is refused with 400 and the reason")
    func listWithoutURLColumnIsRefused() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let response = try await upload(server, as: alice, Self.csv, query: "")
            #expect(response.status == 400)
            #expect((response.json["reason"] as? String ?? response.text).contains("url"), "\(response.text)")
            #expect(try await server.store.lists(ownerID: alice.profile.id).isEmpty)
        }
    }

    @Test("a list with no rows is refused with 400")
    func listWithoutRowsIsRefused() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let response = try await upload(server, as: alice, Array("image,text\n".utf8))
            #expect(response.status == 400, "\(response.text)")
            #expect(try await server.store.lists(ownerID: alice.profile.id).isEmpty)
        }
    }

    @Test("a job names an uploaded list as list:ID with the column options")
    func jobNamesAnOwnList() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            let projectID = try await server.createProject(as: alice)
            let response = try await server.post(
                "/v1/jobs", as: alice,
                json: [
                    "project_id": projectID, "keywords": ["foxes"], "max_images": 3, "sources": ["list:\(id)"],
                    "url_col": "image", "caption_col": "text",
                ] as [String: Any])
            #expect(response.status == 201, "\(response.text)")
            let jobID = try #require(response.json["id"] as? Int)
            #expect(try await server.store.job(id: Int64(jobID))?.sources == ["list:\(id)?url=image&caption=text"])
        }
    }

    @Test("keep_columns: a job keeps the named columns of its list, and an unknown column is refused with 422")
    func keepColumns() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            let projectID = try await server.createProject(as: alice)
            func submit(_ kept: [String]) async throws -> HTTPResult {
                try await server.post(
                    "/v1/jobs", as: alice,
                    json: [
                        "project_id": projectID, "keywords": ["foxes"], "max_images": 3, "sources": ["list:\(id)"],
                        "url_col": "image", "keep_columns": kept,
                    ] as [String: Any])
            }
            let refused = try await submit(["text", "nsfw"])
            #expect(refused.status == 422, "\(refused.text)")
            #expect(refused.text.contains("unknown column to keep: nsfw; the list has image, text"), "\(refused.text)")
            #expect(try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0).isEmpty)

            let accepted = try await submit(["text"])
            #expect(accepted.status == 201, "\(accepted.text)")
            let jobID = try #require(accepted.json["id"] as? Int)
            #expect(try await server.store.job(id: Int64(jobID))?.sources == ["list:\(id)?url=image&keep=text"])
        }
    }

    @Test("a job naming another user's list is refused")
    func jobNamingAnotherUsersListIsRefused() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            let projectID = try await server.createProject(as: bob)
            let response = try await server.post(
                "/v1/jobs", as: bob,
                json: ["project_id": projectID, "keywords": ["foxes"], "max_images": 3, "sources": ["list:\(id)"]]
                    as [String: Any])
            #expect(response.status == 422)
            #expect(try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test("the dashboard's form offers the caller's uploaded lists and starts a crawl of one")
    func formCrawlsAnOwnList() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            let page = try await server.get("/", as: alice)
            #expect(page.text.contains("value=\"list:\(id)\""), "the list is a source on the form")
            let projectID = try await server.createProject(as: alice)
            let response = try await DashboardJobTests.post(
                server, "/dashboard/jobs", as: alice,
                [("project", "\(projectID)"), ("keywords", "foxes"), ("sources", "list:\(id)"), ("max_images", "3")])
            #expect(response.status == 303, "\(response.text)")
            let jobs = try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0)
            #expect(jobs.first?.sources == ["list:\(id)"])
        }
    }

    @Test("the dashboard's form cannot name another user's list either")
    func formNamingAnotherUsersListIsRefused() async throws {
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let bob = try await server.makeUser("bob")
            let id = try #require(try await upload(server, as: alice, Self.csv).json["sha256"] as? String)
            let projectID = try await server.createProject(as: bob)
            let response = try await DashboardJobTests.post(
                server, "/dashboard/jobs", as: bob,
                [("project", "\(projectID)"), ("keywords", "foxes"), ("sources", "list:\(id)"), ("max_images", "3")])
            #expect(response.status != 303, "no job page to go to")
            #expect(response.text.contains("no list \(id) of yours"))
            #expect(try await server.store.listJobs(projectID: projectID, status: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test("an interrupted upload leaves no list row and its partial file is removed")
    func interruptedUploadLeavesNothing() async throws {
        let log = LogTextRecorder()
        try await TestServer.with(.sqlite, logHandler: log) { server in
            let alice = try await server.makeUser("alice")
            let uploads = server.uploadDirectory.path
            let head =
                "POST /v1/lists?url_col=image HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(alice.token)\r\n"
                + "Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
            let socket = try RawConnection(port: server.port)
            defer { socket.close() }
            try socket.send(Array(head.utf8) + Self.csv)
            // The server has begun receiving: its partial file exists. (How soon depends on the machine's load: the
            // deadline only guards against a hang.)
            try await eventually("the server receives the upload", timeout: .seconds(120)) {
                ((try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? []).count == 1
            }
            socket.close()
            // The request's log line is written once its handler has returned, so after the handler's clean-up:
            // from then on nothing may be left, with no polling of the result itself.
            try await eventually("the server ends the interrupted request", timeout: .seconds(120)) {
                log.text.split(separator: "\n").contains {
                    $0.hasPrefix("info request ") && $0.contains("http.request.method=POST ")
                        && $0.contains("http.route=/v1/lists ")
                }
            }
            #expect((try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? [] == [])
            #expect(try await server.store.lists(ownerID: alice.profile.id).isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: server.lists.root.path + "/lists")) ?? [] == [])
        }
    }
}
