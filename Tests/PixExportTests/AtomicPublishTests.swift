import Foundation
import PixExport
import Testing

@Suite struct AtomicPublishTests {
    private func destination(_ format: ArchiveFormat, in directory: TemporaryDirectory) -> URL {
        directory.file("export.\(format.fileExtension)")
    }

    @Test(arguments: ArchiveFormat.allCases)
    func theArchiveAppearsUnderItsNameOnlyWhenFinished(format: ArchiveFormat) throws {
        let directory = try TemporaryDirectory()
        let url = destination(format, in: directory)
        let writer = try format.makeWriter(destination: url)
        try writer.addData(path: "a.txt", bytes: Array("a".utf8), modified: Fixtures.referenceDate)

        let during = try directory.contents()
        #expect(during.count == 1)
        #expect(during.allSatisfy { $0.hasPrefix(".") && $0.hasSuffix(".partial") }, "\(during)")
        #expect(!FileManager.default.fileExists(atPath: url.path))

        let summary = try writer.finish()
        #expect(try directory.contents() == [url.lastPathComponent])
        #expect(summary.url == url)
    }

    @Test(arguments: ArchiveFormat.allCases)
    func cancellingMidwayLeavesNeitherTheArchiveNorItsTemporaryFile(format: ArchiveFormat) throws {
        let directory = try TemporaryDirectory()
        let writer = try format.makeWriter(destination: destination(format, in: directory))
        try directory.makeFile("src", size: 300_000, seed: 1)
        for index in 0..<5 {
            try writer.addFile(path: "img/\(index).jpg", from: directory.file("src"))
        }
        try FileManager.default.removeItem(at: directory.file("src"))
        writer.cancel()

        #expect(try directory.contents().isEmpty)
        let error = try #require(throws: ExportError.self) {
            try writer.addData(path: "late.txt", bytes: [1], modified: Fixtures.referenceDate)
        }
        #expect(error.code == .writerClosed)
        #expect(throws: ExportError.self) { try writer.finish() }
    }

    @Test(arguments: ArchiveFormat.allCases)
    func anErrorInsideAnEntryDiscardsTheArchive(format: ArchiveFormat) throws {
        let directory = try TemporaryDirectory()
        let writer = try format.makeWriter(
            destination: destination(format, in: directory), options: .init(blockSize: 64 << 10))
        try writer.addData(path: "first.txt", bytes: Array("first".utf8), modified: Fixtures.referenceDate)
        var source = ChunkedSource(bytes: Fixtures.bytes(count: 400_000, seed: 2), trigger: .fail(after: 150_000))
        #expect(throws: ChunkedSource.Injected.self) {
            try writer.addEntry(path: "broken.bin", size: 400_000, modified: Fixtures.referenceDate, from: &source)
        }
        #expect(try directory.contents().isEmpty)
        #expect(throws: ExportError.self) { try writer.finish() }
    }

    @Test(arguments: ArchiveFormat.allCases)
    func taskCancellationMidEntryDiscardsTheArchive(format: ArchiveFormat) async throws {
        let directory = try TemporaryDirectory()
        let url = destination(format, in: directory)
        let task = Task {
            let writer = try format.makeWriter(destination: url, options: .init(blockSize: 64 << 10))
            var source = ChunkedSource(
                bytes: Fixtures.bytes(count: 400_000, seed: 3), trigger: .cancelTask(after: 150_000))
            try writer.addEntry(path: "slow.bin", size: 400_000, modified: Fixtures.referenceDate, from: &source)
            return try writer.finish()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try directory.contents().isEmpty)
    }

    @Test(arguments: ArchiveFormat.allCases)
    func releasingAnUnfinishedWriterRemovesItsTemporaryFile(format: ArchiveFormat) throws {
        let directory = try TemporaryDirectory()
        do {
            let writer = try format.makeWriter(destination: destination(format, in: directory))
            try writer.addData(path: "a.txt", bytes: Array("a".utf8), modified: Fixtures.referenceDate)
            #expect(try directory.contents().count == 1)
        }
        #expect(try directory.contents().isEmpty)
    }

    @Test func anExistingArchiveIsReplacedOnlyAtFinish() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("export.zip")
        try Data("old".utf8).write(to: url)
        let writer = try ZipWriter(destination: url)
        try writer.addData(path: "new.txt", bytes: Array("new".utf8), modified: Fixtures.referenceDate)
        #expect(try Data(contentsOf: url) == Data("old".utf8))
        writer.cancel()
        #expect(try Data(contentsOf: url) == Data("old".utf8), "a cancelled export leaves the previous archive alone")
        #expect(try directory.contents() == ["export.zip"])
    }
}
