import Crypto
import Foundation
import PixCore
import PixExport
import PixS3
import PixServe
import PixStore
import PixTestSupport
import Testing

@Suite("WebDataset shard downloads")
struct ShardDownloadTests {
    /// A written WebDataset export of a 3-image job (its archive's bytes when stored locally, else empty) and a
    /// download link to it, `/downloads/TOKEN`, live for `hours`.
    static func webDatasetLink(_ server: TestServer, hours: Int) async throws -> (archive: [UInt8], base: String) {
        let alice = try await server.makeUser("alice")
        let projectID = try await server.createProject(as: alice)
        let jobID = try await server.submitJob(as: alice, projectID: projectID)
        try await server.insertImages(jobID: jobID, count: 3)
        let export = try await server.post("/v1/jobs/\(jobID)/exports", as: alice, json: ["format": "webdataset"])
        let exportID = Int64(try #require(export.json["id"] as? Int))
        let archive = try await server.runExport(exportID)
        let link = try await server.post(
            "/v1/exports/\(exportID)/links", as: alice, json: ["expires_in_hours": hours])
        return (archive, try #require(link.json["download_url"] as? String))
    }

    @Test("GET /downloads/TOKEN/shard-000000.tar serves one shard (Range too); the index names it with its sha256")
    func servesShards() async throws {
        try await TestServer.with(.sqlite) { server in
            let (archive, base) = try await Self.webDatasetLink(server, hours: 1)

            let shard = try await server.client.get("\(base)/shard-000000.tar")
            #expect(shard.status == 200)
            #expect(shard.headers["content-type"] == "application/x-tar")
            let members = try TarMembers(
                path: {
                    let url = FileManager.default.temporaryDirectory.appendingPathComponent("outer-\(UUID().uuidString).tar")
                    try Data(archive).write(to: url)
                    return url.path
                }())
            let member = try #require(members.member(named: "shard-000000.tar"))
            #expect(shard.body == Array(archive[Int(member.offset)..<Int(member.offset + member.size)]))

            let index = try await server.client.get("\(base)/shard-index.json")
            #expect(index.status == 200)
            let decoded = try JSONDecoder().decode(WebDatasetIndex.self, from: Data(index.body))
            #expect(decoded.shards.map(\.url) == ["shard-000000.tar"])
            #expect(decoded.shards.first?.sha256 == SHA256.hash(data: shard.body).map { String(format: "%02x", $0) }.joined())

            let partial = try await server.client.get("\(base)/shard-000000.tar", headers: ["Range": "bytes=0-99"])
            #expect(partial.status == 206)
            #expect(partial.body == Array(shard.body.prefix(100)))
            #expect(partial.headers["content-range"] == "bytes 0-99/\(shard.body.count)")

            #expect(try await server.client.get("\(base)/shard-000009.tar").status == 404)
            #expect(try await server.client.get("\(base)/manifest.csv").status == 404)
        }
    }

    @Test("in object storage each shard and index redirects to its own presigned object, expiring with the link")
    func objectStorageShards() async throws {
        let bucket = try TestBucket.make("shards")
        try await TestServer.with(.sqlite, archiveStorage: .s3(bucket)) { server in
            let (_, base) = try await Self.webDatasetLink(server, hours: 2)

            func fetched(_ name: String) async throws -> [UInt8] {
                let redirect = try await server.client.get("\(base)/\(name)")
                #expect(redirect.status == 302, "\(name)")
                let target = try #require(redirect.headers["location"])
                #expect(!target.contains(String(base.dropFirst("/downloads/".count))))
                let expires = URLComponents(string: target)?.queryItems?.first { $0.name == "X-Amz-Expires" }?.value
                #expect(expires.flatMap(Int.init).map { (7_190...7_200).contains($0) } == true, "\(String(describing: expires))")
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("shard-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: file) }
                let curl = try await TestProcess.runDetached(["curl", "-sS", "-f", "-o", file.path, target])
                #expect(curl.status == 0, "\(curl.stderr)")
                return Array(try Data(contentsOf: file))
            }
            let index = try JSONDecoder().decode(WebDatasetIndex.self, from: Data(try await fetched("shard-index.json")))
            #expect(index.shards.map(\.url) == ["shard-000000.tar"])
            for shard in index.shards {
                let bytes = try await fetched(shard.url)
                #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == shard.sha256)
            }
            #expect(try await server.client.get("\(base)/shard-000009.tar").status == 404)
        }
    }
}
