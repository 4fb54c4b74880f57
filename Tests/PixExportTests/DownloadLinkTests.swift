import Foundation
import PixCore
import PixExport
import PixStore
import PixTestSupport
import Testing

@Suite("Download links and garbage collection")
struct DownloadLinkTests {
    @Test("the database holds the token's SHA-256, never the token", arguments: Backend.allCases)
    func onlyHashStored(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages([ImageSpec(seed: 1)])
        let outcome = try await fixture.export(.zip)
        let link = try await ExportDownloads(store: fixture.store).issueLink(exportID: outcome.export.id)

        let rows = try await fixture.query("SELECT token_hash FROM download_records ORDER BY id")
        #expect(rows.compactMap { $0.string("token_hash") } == [outcome.downloadToken.hash, link.token.hash])
        for token in [outcome.downloadToken.value, link.token.value] {
            #expect(token.hasPrefix("pxd_"))
            #expect(token.utf8.count >= 4 + 22, "at least 128 bits of base64url")
            for table in ["download_records", "export_jobs"] {
                let dump = try await fixture.query("SELECT * FROM \(table)")
                let cells = dump.flatMap { row in
                    ["token_hash", "download_url", "file_path", "export_options", "sha256", "name"].compactMap {
                        row.string($0)
                    }
                }
                #expect(!cells.contains { $0.contains(token) }, "\(table) does not contain the token")
            }
        }
        let export = try #require(try await fixture.store.export(id: outcome.export.id))
        #expect(export.expiresAt == link.record.expiresAt, "expires_at reflects the newest record")
    }

    @Test(
        "a live token downloads a verified copy and counts; an expired one is refused as expired",
        arguments: Backend.allCases)
    func liveAndExpiredTokens(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages([ImageSpec(seed: 1), ImageSpec(seed: 2, format: .png)])
        let outcome = try await fixture.export(.tar)
        let downloads = ExportDownloads(store: fixture.store)

        let copy = fixture.directory.file("copy.tar")
        let first = try await downloads.download(token: outcome.downloadToken.value, to: copy)
        #expect(try Data(contentsOf: copy) == (try Data(contentsOf: outcome.archive)))
        #expect(first.record.downloadCount == 1)
        #expect(first.sha256 == outcome.sha256)
        let second = try await downloads.download(token: outcome.downloadToken.value, to: fixture.directory.url)
        #expect(second.file.lastPathComponent == outcome.archive.lastPathComponent, "a directory takes the archive's name")
        #expect(second.record.downloadCount == 2)
        let record = try #require(try await fixture.store.downloadRecord(tokenHash: outcome.downloadToken.hash))
        #expect(record.downloadCount == 2)
        #expect(record.lastDownloadAt != nil)

        let expiredToken = DownloadToken.generate()
        _ = try await fixture.store.createDownloadRecord(
            exportID: outcome.export.id, NewDownloadRecord(tokenHash: expiredToken.hash, lifetime: .seconds(-1)))
        let refused = fixture.directory.file("refused.tar")
        let error = await #expect(throws: ExportJobError.self) {
            try await downloads.download(token: expiredToken.value, to: refused)
        }
        #expect(error?.code == .tokenExpired)
        #expect(error?.description.hasPrefix("expired") == true)
        #expect(!FileManager.default.fileExists(atPath: refused.path))
        let expiredRecord = try #require(try await fixture.store.downloadRecord(tokenHash: expiredToken.hash))
        #expect(expiredRecord.downloadCount == 0, "a refused download is not counted")

        let unknown = await #expect(throws: ExportJobError.self) {
            try await downloads.download(token: DownloadToken.generate().value, to: refused)
        }
        #expect(unknown?.code == .unknownToken)
    }

    @Test(
        "download verification catches a corrupted or truncated archive and leaves no copy",
        arguments: Backend.allCases)
    func corruptedArchive(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages([ImageSpec(seed: 1), ImageSpec(seed: 2)])
        let outcome = try await fixture.export(.zip)
        let downloads = ExportDownloads(store: fixture.store)

        var bytes = try Data(contentsOf: outcome.archive)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: outcome.archive)
        let target = fixture.directory.file("copy.zip")
        let flipped = await #expect(throws: ExportJobError.self) {
            try await downloads.download(token: outcome.downloadToken.value, to: target)
        }
        #expect(flipped?.code == .integrityMismatch)
        #expect(flipped?.description.contains("SHA-256") == true)

        try bytes.prefix(bytes.count - 10).write(to: outcome.archive)
        let truncated = await #expect(throws: ExportJobError.self) {
            try await downloads.download(token: outcome.downloadToken.value, to: target)
        }
        #expect(truncated?.code == .integrityMismatch)
        #expect(!FileManager.default.fileExists(atPath: target.path))
        #expect(try fixture.directory.contents().filter { $0.hasSuffix(".partial") }.isEmpty)

        let relink = await #expect(throws: ExportJobError.self) {
            try await downloads.issueLink(exportID: outcome.export.id)
        }
        #expect(relink?.code == .archiveMissing, "no fresh link for an archive whose size changed")
    }

    @Test(
        "gc deletes an archive whose links all expired and keeps any archive with a live link",
        arguments: Backend.allCases)
    func garbageCollection(backend: Backend) async throws {
        let fixture = try await ExportJobFixture(backend)
        try await fixture.addImages([ImageSpec(seed: 1), ImageSpec(seed: 2)])
        let expired = try await fixture.export(.zip)
        let live = try await fixture.export(.tar)
        let mixed = try await fixture.export(.tarGzip)
        let downloads = ExportDownloads(store: fixture.store)
        // `mixed` gets a second, live link; then every link older than it is moved into the past.
        let stillLive = try await downloads.issueLink(exportID: mixed.export.id)
        for outcome in [expired, mixed] {
            try await fixture.query(
                "UPDATE download_records SET expires_at = \(fixture.anHourAgo) WHERE token_hash = $1",
                [.text(outcome.downloadToken.hash)])
        }
        // `mixed`'s own expires_at in the past too: only its live record keeps it.
        for id in [expired.export.id, mixed.export.id] {
            try await fixture.query("UPDATE export_jobs SET expires_at = \(fixture.anHourAgo) WHERE id = $1", [.int(id)])
        }

        let collector = ExportGarbageCollector(store: fixture.store, exportsDirectory: fixture.exportsDirectory)
        let report = try await collector.collect()
        #expect(report.archives.map(\.exportID) == [expired.export.id])
        #expect(report.archives.first?.outcome == .deleted)
        #expect(report.bytesFreed == Int64(expired.fileSize))
        #expect(!FileManager.default.fileExists(atPath: expired.archive.path))
        #expect(FileManager.default.fileExists(atPath: live.archive.path))
        #expect(FileManager.default.fileExists(atPath: mixed.archive.path))
        #expect(try await fixture.store.export(id: expired.export.id)?.status == .expired)
        #expect(try await fixture.store.export(id: live.export.id)?.status == .completed)
        #expect(try await fixture.store.export(id: mixed.export.id)?.status == .completed)

        let again = try await collector.collect()
        #expect(again.archives.isEmpty, "an expired export is collected once")

        let gone = await #expect(throws: ExportJobError.self) {
            try await downloads.download(token: expired.downloadToken.value, to: fixture.directory.file("x"))
        }
        #expect(gone?.code == .tokenExpired)
        let relink = await #expect(throws: ExportJobError.self) {
            try await downloads.issueLink(exportID: expired.export.id)
        }
        #expect(relink?.code == .exportUnavailable)
        let copy = try await downloads.download(token: stillLive.token.value, to: fixture.directory.file("mixed.tar.gz"))
        #expect(copy.sha256 == mixed.sha256)
    }

    @Test("gc removes stale temporary files of interrupted exports and keeps recent ones")
    func sweepsTemporaryFiles() async throws {
        let fixture = try await ExportJobFixture(.sqlite)
        let folder = fixture.exportsDirectory.appendingPathComponent("job-1", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stale = folder.appendingPathComponent(".export-1.zip.abc.partial")
        let recent = folder.appendingPathComponent(".export-2.zip.def.partial")
        let published = folder.appendingPathComponent("export-3.zip")
        for url in [stale, recent, published] { try Data([1, 2, 3]).write(to: url) }
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3 * 86_400)], ofItemAtPath: stale.path)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3 * 86_400)], ofItemAtPath: published.path)
        let report = try await ExportGarbageCollector(store: fixture.store, exportsDirectory: fixture.exportsDirectory)
            .collect()
        #expect(report.temporaryFiles == [stale.path])
        #expect(FileManager.default.fileExists(atPath: recent.path))
        #expect(FileManager.default.fileExists(atPath: published.path))
    }
}
