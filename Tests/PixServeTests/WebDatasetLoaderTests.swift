import Crypto
import Foundation
import PixBlob
import PixCore
import PixDemo
import PixExport
import PixFixtures
import PixServe
import PixStore
import PixTestSupport
import Testing

/// The `webdataset` and `Pillow` packages read a resized WebDataset export the way training code does: from the
/// shard files `pixcrawl download TOKEN -o DIR` writes, and over HTTP from the server's shard routes.
@Suite("WebDataset loader")
struct WebDatasetLoaderTests {
    static let script = """
        import io, json, sys
        import webdataset as wds
        from PIL import Image
        sizes = []
        for sample in wds.WebDataset(sys.argv[1], shardshuffle=False):
            image = Image.open(io.BytesIO(sample["jpg"]))
            image.load()
            sizes.append(list(image.size))
        print(json.dumps(sizes))
        """

    @Test("a center_crop 64 export reads as 64×64 images, from files and over HTTP")
    func readsResizedShards() async throws {
        let python = try await TestPython.webDataset()
        try await TestServer.with(.sqlite) { server in
            let alice = try await server.makeUser("alice")
            let projectID = try await server.createProject(as: alice)
            let jobID = try await server.submitJob(as: alice, projectID: projectID)
            try await Self.insertPhotos(server, jobID: jobID, count: 5)
            let export = try await server.post(
                "/v1/jobs/\(jobID)/exports", as: alice,
                json: ["format": "webdataset", "resize": ["size": 64, "mode": "center_crop"]])
            let exportID = Int64(try #require(export.json["id"] as? Int))
            _ = try await server.runExport(exportID)
            let link = try await server.post("/v1/exports/\(exportID)/links", as: alice)
            let base = try #require(link.json["download_url"] as? String)
            let token = String(base.dropFirst("/downloads/".count))

            let overHTTP = try await Self.read(python, "http://127.0.0.1:\(server.port)\(base)/shard-{000000..000000}.tar")
            #expect(overHTTP == Array(repeating: [64, 64], count: 5))

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wds-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            _ = try await ExportDownloads(store: server.store).download(token: token, to: directory)
            let fromFiles = try await Self.read(python, directory.appendingPathComponent("shard-000000.tar").path)
            #expect(fromFiles == Array(repeating: [64, 64], count: 5))
        }
    }

    static func read(_ python: String, _ url: String) async throws -> [[Int]] {
        let output = try await TestProcess.runDetached([python, "-c", script, url])
        guard output.status == 0 else {
            throw TestSupportError("webdataset could not read \(url): \(output.stderr.suffix(2000))")
        }
        return try JSONDecoder().decode([[Int]].self, from: Data(output.stdout.utf8))
    }

    /// Real JPEGs (the server's own helper stores placeholder bytes).
    static func insertPhotos(_ server: TestServer, jobID: Int64, count: Int) async throws {
        var images: [NewImage] = []
        for index in 0..<count {
            let bytes = FixtureImages.jpeg(seed: UInt64(40 + index), width: 160 + index * 20, height: 120)
            let sha = SHA256Hex.of(bytes)
            let stored = try server.blobs.put(bytes, for: try BlobKey(sha256: sha, format: .jpeg))
            images.append(
                NewImage(
                    originalURL: "http://127.0.0.1/img/\(index).jpg", filename: "\(index).jpg",
                    storageURL: stored.storageURL, width: 160 + index * 20, height: 120, fileSize: bytes.count,
                    format: .jpeg, sha256: sha, perceptualHash: UInt64(index), keyword: "red fox", source: "demo",
                    license: "by", creator: "tester"))
        }
        _ = try await server.store.insertImages(jobID: jobID, images: images)
    }
}

enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
