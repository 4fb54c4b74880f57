import Foundation
import PixCore
import PixSources
import Testing

@Suite struct URLListSourceTests {
    /// A fresh temporary directory, removed after `body`.
    func withDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixcrawl-urls-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    func write(_ text: String, to directory: URL, name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    // MARK: - Text

    @Test func textListsSkipCommentsAndBlankLines() async throws {
        try await withDirectory { directory in
            let path = try write(
                "\u{FEFF}# exported 2024-05-01\nhttps://a.example/1.jpg\r\n\n   \n  https://a.example/2.png  \n"
                    + "# a comment in between\nhttps://a.example/3.jpg#fragment\nhttps://a.example/4.jpg",
                to: directory, name: "list.txt")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(source.format == .text)
            #expect(source.name == "urls")
            #expect(source.maxDepth == nil)
            #expect(try source.count() == 4)
            let page = try await source.page(keyword: "foxes", range: 0..<10, cursor: nil)
            #expect(
                page.candidates.map(\.url) == [
                    "https://a.example/1.jpg", "https://a.example/2.png", "https://a.example/3.jpg#fragment",
                    "https://a.example/4.jpg",
                ])
            #expect(page.candidates.map(\.position) == [0, 1, 2, 3])
            #expect(page.candidates.allSatisfy { $0.keyword == "foxes" && $0.source == "urls" })
            #expect(page.exhausted)
            #expect(page.nextCursor == nil)
            #expect(page.totalAvailable == 4)
        }
    }

    @Test func aRowRangeInTheMiddleReadsOnlyThoseRows() async throws {
        try await withDirectory { directory in
            var text = "# header comment\n"
            for row in 0..<1000 {
                text += "https://img.example/\(row).jpg\n"
                if row % 100 == 0 { text += "\n# section \(row / 100)\n" }
            }
            let path = try write(text, to: directory, name: "big.txt")
            let source = try URLListSource(path: path, pageSize: 4, logger: testLogger)
            #expect(try source.count() == 1000)
            let pages = try await allPages(of: source, keyword: "k", range: 600..<610)
            #expect(pages.map(\.nextCursor) == ["604", "608", nil])
            #expect(pages.allSatisfy { !$0.exhausted })
            let candidates = pages.flatMap(\.candidates)
            #expect(candidates.map(\.position) == Array(600..<610))
            #expect(candidates.map(\.url) == (600..<610).map { "https://img.example/\($0).jpg" })

            let tail = try await source.page(keyword: "k", range: 998..<1200, cursor: nil)
            #expect(tail.candidates.map(\.position) == [998, 999])
            #expect(tail.exhausted)
            #expect(tail.nextCursor == nil)

            let beyond = try await source.page(keyword: "k", range: 1000..<1100, cursor: nil)
            #expect(beyond.candidates.isEmpty && beyond.exhausted)
        }
    }

    @Test func aMillionLineListIsStreamed() async throws {
        try await withDirectory { directory in
            let url = directory.appendingPathComponent("million.txt")
            var chunk = ""
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            let handle = try FileHandle(forWritingTo: url)
            for row in 0..<1_000_000 {
                chunk += "https://img.example/\(row).jpg\n"
                if row % 50_000 == 49_999 {
                    try handle.write(contentsOf: Data(chunk.utf8))
                    chunk = ""
                }
            }
            try handle.close()
            let source = try URLListSource(path: url.path, logger: testLogger)
            #expect(try source.count() == 1_000_000)
            let page = try await source.page(keyword: "k", range: 999_990..<1_000_000, cursor: nil)
            #expect(page.candidates.map(\.url) == (999_990..<1_000_000).map { "https://img.example/\($0).jpg" })
            #expect(page.exhausted)
            let middle = try await source.page(keyword: "k", range: 543_210..<543_213, cursor: nil)
            #expect(middle.candidates.map(\.url) == (543_210..<543_213).map { "https://img.example/\($0).jpg" })
        }
    }

    // MARK: - CSV

    @Test func csvRowsCarryLabelsLicensesAndQuotedFields() async throws {
        try await withDirectory { directory in
            let csv = #"""
                URL,label,license,caption,creator
                https://a.example/1.jpg,red fox,cc-by,"A fox, in snow",Jane Roe
                "https://a.example/2.jpg",,cc0,"She said ""hello""","Roe, Jane"

                https://a.example/3.jpg,arctic fox,by-sa,"two
                lines",
                ,orphan label,,,
                https://a.example/5.jpg
                """#
            let path = try write(csv.replacingOccurrences(of: "\n", with: "\r\n"), to: directory, name: "list.csv")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(source.format == .csv)
            #expect(try source.count() == 5)
            let page = try await source.page(keyword: "fox", range: 0..<5, cursor: nil)
            // The row without a URL keeps its position but proposes nothing.
            #expect(page.candidates.map(\.position) == [0, 1, 2, 4])
            let byPosition = Dictionary(uniqueKeysWithValues: page.candidates.map { ($0.position, $0) })
            #expect(byPosition[0]?.url == "https://a.example/1.jpg")
            #expect(byPosition[0]?.keyword == "red fox")
            #expect(byPosition[0]?.license == "cc-by")
            #expect(byPosition[0]?.title == "A fox, in snow")
            #expect(byPosition[0]?.creator == "Jane Roe")
            #expect(byPosition[1]?.keyword == "fox")
            #expect(byPosition[1]?.title == "She said \"hello\"")
            #expect(byPosition[1]?.creator == "Roe, Jane")
            #expect(byPosition[2]?.keyword == "arctic fox")
            #expect(byPosition[2]?.title == "two\nlines")
            #expect(byPosition[2]?.creator == nil)
            #expect(byPosition[4]?.url == "https://a.example/5.jpg")
            #expect(byPosition[4]?.license == nil)

            let resumed = try await source.page(keyword: "fox", range: 0..<5, cursor: "2")
            #expect(resumed.candidates.map(\.position) == [2, 4])
        }
    }

    @Test func keptColumnsTravelWithTheCandidate() async throws {
        try await withDirectory { directory in
            let path = try write(
                "url,caption,Photo_ID,similarity\nhttps://a.example/1.jpg,a fox,p-1,0.31\nhttps://a.example/2.jpg,,p-2,\n",
                to: directory, name: "list.csv")
            let named = try URLListSource(
                path: path, columns: URLListSource.Columns(keep: ["photo_id", "similarity"]), logger: testLogger)
            let page = try await named.page(keyword: "fox", range: 0..<2, cursor: nil)
            #expect(
                page.candidates.map(\.keptColumns) == [
                    ["photo_id": "p-1", "similarity": "0.31"], ["photo_id": "p-2", "similarity": ""],
                ])

            let all = try URLListSource(
                path: path, columns: URLListSource.Columns(keep: URLListSource.Columns.kept(named: ["all"])),
                logger: testLogger)
            let first = try await all.page(keyword: "fox", range: 0..<1, cursor: nil).candidates.first
            #expect(
                first?.keptColumns == [
                    "url": "https://a.example/1.jpg", "caption": "a fox", "photo_id": "p-1", "similarity": "0.31",
                ])
            let plain = try await URLListSource(path: path, logger: testLogger).page(
                keyword: "fox", range: 0..<1, cursor: nil)
            #expect(plain.candidates.first?.keptColumns == nil)
        }
    }

    @Test func anUnknownKeptColumnIsRefusedNamingTheListsColumns() async throws {
        try await withDirectory { directory in
            let path = try write("url,caption\nhttps://a.example/1.jpg,a fox\n", to: directory, name: "list.csv")
            let error = #expect(throws: SourceError.self) {
                try URLListSource(
                    path: path, columns: URLListSource.Columns(keep: ["caption", "nsfw"]), logger: testLogger)
            }
            #expect(error?.code == .invalidSpec)
            #expect("\(error.map { "\($0)" } ?? "")".contains("unknown column to keep: nsfw; the list has url, caption"))
            let text = try write("https://a.example/1.jpg\n", to: directory, name: "list.txt")
            #expect(throws: SourceError.self) {
                try URLListSource(path: text, columns: URLListSource.Columns(keep: ["caption"]), logger: testLogger)
            }
        }
    }

    @Test func csvRangesAcrossIndexCheckpointsStayAligned() async throws {
        try await withDirectory { directory in
            var csv = "label,url\n"
            for row in 0..<2000 {
                csv +=
                    row % 3 == 0
                    ? "\"multi\nline \(row)\",https://c.example/\(row).jpg\n" : "l\(row),https://c.example/\(row).jpg\n"
            }
            let path = try write(csv, to: directory, name: "rows.csv")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(try source.count() == 2000)
            let page = try await source.page(keyword: "k", range: 1020..<1030, cursor: nil)
            #expect(page.candidates.map(\.url) == (1020..<1030).map { "https://c.example/\($0).jpg" })
            #expect(page.candidates[0].keyword == "multi\nline 1020")
            #expect(page.candidates[1].keyword == "l1021")
        }
    }

    @Test func tsvListsAreRead() async throws {
        try await withDirectory { directory in
            let path = try write(
                "url\tkeyword\nhttps://t.example/a.jpg\tcats\nhttps://t.example/b.jpg\tdogs\n", to: directory,
                name: "list.tsv")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(source.format == .tsv)
            let page = try await source.page(keyword: "x", range: 0..<10, cursor: nil)
            #expect(page.candidates.map(\.keyword) == ["cats", "dogs"])
        }
    }

    @Test func aCSVWithoutAURLColumnIsRefused() async throws {
        try await withDirectory { directory in
            let path = try write("image,label\nhttps://a.example/1.jpg,x\n", to: directory, name: "bad.csv")
            let error = try #require(throws: SourceError.self) { try URLListSource(path: path, logger: testLogger) }
            #expect(error.code == .fileUnreadable)
            #expect(error.description.contains("no 'url' column"))
            #expect(error.description.contains("image, label"))
        }
    }

    // MARK: - JSONL

    @Test func jsonlRowsCarryTheirFields() async throws {
        try await withDirectory { directory in
            let path = try write(
                """
                {"url": "https://j.example/1.jpg", "keyword": "owl", "license": "by", "title": "An owl", "creator": "A. B.", "width": 640}
                {"url": "https://j.example/2.jpg", "label": null, "caption": "No label"}

                this line is not JSON
                {"url": "https://j.example/4.png", "label": "barn owl", "landing_url": "https://j.example/page/4"}
                """, to: directory, name: "list.jsonl")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(source.format == .jsonl)
            #expect(try source.count() == 4)
            let page = try await source.page(keyword: "birds", range: 0..<4, cursor: nil)
            #expect(page.candidates.map(\.position) == [0, 1, 3])
            #expect(page.candidates.map(\.keyword) == ["owl", "birds", "barn owl"])
            #expect(page.candidates[0].license == "by")
            #expect(page.candidates[0].title == "An owl")
            #expect(page.candidates[0].creator == "A. B.")
            #expect(page.candidates[1].title == "No label")
            #expect(page.candidates[2].landingURL == "https://j.example/page/4")
        }
    }

    // MARK: - Detection, errors, changes

    @Test func theFormatIsDetectedFromContentWithoutAnExtension() async throws {
        try await withDirectory { directory in
            let csv = try write(
                "# it's a \"comment\nurl,label\nhttps://d.example/1.jpg,a\n", to: directory, name: "list-a")
            let jsonl = try write("{\"url\": \"https://d.example/2.jpg\"}\n", to: directory, name: "list-b")
            let text = try write("https://d.example/3.jpg\n", to: directory, name: "list-c")
            let csvSource = try URLListSource(path: csv, logger: testLogger)
            #expect(csvSource.format == .csv)
            let rows = try await csvSource.page(keyword: "k", range: 0..<5, cursor: nil).candidates
            #expect(rows.map(\.url) == ["https://d.example/1.jpg"])
            #expect(rows.map(\.keyword) == ["a"])
            #expect(try URLListSource(path: jsonl, logger: testLogger).format == .jsonl)
            #expect(try URLListSource(path: text, logger: testLogger).format == .text)
        }
    }

    @Test func aMissingFileIsAClearError() async throws {
        try await withDirectory { directory in
            let path = directory.appendingPathComponent("absent.csv").path
            let error = try #require(throws: SourceError.self) { try URLListSource(path: path, logger: testLogger) }
            #expect(error.code == .fileUnreadable)
            #expect(error.category == .source)
            #expect(error.description.contains(path))
            #expect(error.description.contains("No such file"))
        }
    }

    @Test func aChangedFileIsCountedAgain() async throws {
        try await withDirectory { directory in
            let path = try write("https://e.example/1.jpg\n", to: directory, name: "grow.txt")
            let source = try URLListSource(path: path, logger: testLogger)
            #expect(try source.count() == 1)
            _ = try write(
                "https://e.example/1.jpg\nhttps://e.example/2.jpg\nhttps://e.example/3.jpg\n", to: directory,
                name: "grow.txt")
            #expect(try source.count() == 3)
            let page = try await source.page(keyword: "k", range: 2..<3, cursor: nil)
            #expect(page.candidates.map(\.url) == ["https://e.example/3.jpg"])
        }
    }
}
