import Crypto
import Foundation
import PixCore
import PixExport
import PixTestSupport
import Testing

@Suite("WebDataset downloads")
struct WebDatasetDownloadTests {
    @Test("download -o DIR writes every shard and index, each shard matching its index's sha256")
    func unpacksShards() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        try await fixture.addImages((1...5).map { ImageSpec(seed: UInt64($0)) })
        let outcome = try await fixture.export(.webdataset, ExportOptions(shardSize: 2))
        let directory = fixture.directory.url.appendingPathComponent("dataset", isDirectory: true)

        let downloaded = try await ExportDownloads(store: fixture.store)
            .download(token: outcome.downloadToken.value, to: directory)

        #expect(downloaded.files.filter { $0.hasSuffix(".tar") } == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"])
        #expect(downloaded.files.contains("shard-index.json"))
        let index = try JSONDecoder().decode(
            WebDatasetIndex.self, from: Data(contentsOf: directory.appendingPathComponent("shard-index.json")))
        for shard in index.shards {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(shard.url))
            #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == shard.sha256)
        }
        let hidden = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty, "no staging file is left behind")
    }

    @Test("the members of a WebDataset archive are found from its headers alone")
    func tarMembers() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        try await fixture.addImages((1...3).map { ImageSpec(seed: UInt64($0)) })
        let outcome = try await fixture.export(.webdataset, ExportOptions(shardSize: 2))
        let members = try TarMembers(path: outcome.archive.path)
        let archive = try Data(contentsOf: outcome.archive)
        let shard = try #require(members.member(named: "shard-000001.tar"))
        let bytes = archive[Int(shard.offset)..<Int(shard.offset + shard.size)]
        let inner = try TarMembers(
            path: {
                let url = fixture.directory.url.appendingPathComponent("inner.tar")
                try Data(bytes).write(to: url)
                return url.path
            }())
        #expect(inner.members.map(\.name).contains { $0.hasSuffix(".json") })
        #expect(members.member(named: "manifest.csv") != nil)
    }
}
