import Foundation
import PixCore
import PixExport
import Testing

@Suite struct ManifestWriterTests {
    private static let awkward = [
        "plain", "comma, inside", "quote \" inside", "line\nbreak", "crlf\r\nbreak", "emoji 🦊🏳️‍🌈", "  spaced  ",
        "",
    ]

    private func rows() -> [ManifestRow] {
        Self.awkward.enumerated().map { index, text in
            ManifestRow(
                path: "train/\(text)/\(index).jpg", imageID: Int64(index),
                originalURL: "https://example.org/a?b=1,2&c=\"3\"",
                landingURL: index.isMultiple(of: 2) ? nil : "https://example.org/page/\(index)", source: "openverse",
                license: index == 0 ? nil : "by-sa 4.0", creator: text, keyword: text, split: index == 1 ? nil : .val,
                width: 100 + index, height: 200, bytes: 12_345, format: "jpeg",
                sha256: String(repeating: "0", count: 63) + String(index),
                dhash: index == 2 ? nil : 0x00ff_00ff_1234_abcd)
        }
    }

    @Test func csvRoundTripsThroughPythonsCSVModule() throws {
        let directory = try TemporaryDirectory()
        let writer = try ManifestWriter(destination: directory.file("manifest.csv"), format: .csv)
        let rows = rows()
        for row in rows { try writer.append(row) }
        let summary = try writer.finish()
        #expect(summary.entryCount == rows.count)

        let parsed = try ExternalTools.python(
            """
            import csv, json, sys
            with open(sys.argv[1], newline="", encoding="utf-8") as f:
                print(json.dumps(list(csv.reader(f, strict=True))))
            """, [directory.file("manifest.csv").path], as: [[String]].self)
        #expect(parsed.first == ManifestRow.columns)
        #expect(parsed.count == rows.count + 1)
        for (row, fields) in zip(rows, parsed.dropFirst()) {
            #expect(
                fields == [
                    row.path, String(row.imageID), row.originalURL, row.landingURL ?? "", row.source, row.license ?? "",
                    row.creator ?? "", row.keyword, row.caption ?? "", row.split?.rawValue ?? "", String(row.width),
                    String(row.height),
                    String(row.bytes), row.format, row.sha256, row.dhashHex ?? "", row.keptColumnsJSON ?? "",
                ])
        }
        let raw = try String(contentsOf: directory.file("manifest.csv"), encoding: .utf8)
        #expect(raw.contains("\"quote \"\" inside\""), "quotes are doubled inside a quoted field")
        #expect(raw.hasSuffix("\r\n"))
        #expect(rows[0].dhashHex == "00ff00ff1234abcd")
    }

    @Test(arguments: ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
    func csvCellsNeverStartAFormula(creator: String) {
        let row = ManifestRow(
            path: "train/0.jpg", imageID: 1, originalURL: "https://example.org/0.jpg", landingURL: nil,
            source: "openverse", license: "by", creator: creator, keyword: creator, split: .train, width: 10,
            height: 10, bytes: 100, format: "jpeg", sha256: String(repeating: "0", count: 64), dhash: nil)
        let record = row.csvRecord()
        #expect(!record.contains("," + creator))
        #expect(!record.contains(",\"" + creator))
        #expect(record.contains("'" + creator.replacingOccurrences(of: "\"", with: "\"\"")))
    }

    @Test func jsonLinesParseAsOneObjectPerLine() throws {
        let directory = try TemporaryDirectory()
        let writer = try ManifestWriter(destination: directory.file("manifest.jsonl"), format: .jsonl)
        let rows = rows()
        for row in rows { try writer.append(row) }
        _ = try writer.finish()

        let parsed = try ExternalTools.python(
            """
            import json, sys
            lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")
            assert lines[-1] == "", "the file ends with a newline"
            print(json.dumps([[list(o.keys()), o] for o in map(json.loads, lines[:-1])]))
            """, [directory.file("manifest.jsonl").path], as: [[JSONLine]].self)
        #expect(parsed.count == rows.count)
        for (row, pair) in zip(rows, parsed) {
            guard case .keys(let keys) = pair[0], case .object(let object) = pair[1] else {
                Issue.record("unexpected shape")
                continue
            }
            #expect(keys == ManifestRow.columns, "keys in column order")
            #expect(object["path"] == .string(row.path))
            #expect(object["image_id"] == .number(Double(row.imageID)))
            #expect(object["creator"] == .string(row.creator!))
            #expect(object["keyword"] == .string(row.keyword))
            #expect(object["landing_url"] == (row.landingURL.map(JSONValue.string) ?? .null))
            #expect(object["license"] == (row.license.map(JSONValue.string) ?? .null))
            #expect(object["split"] == (row.split.map { JSONValue.string($0.rawValue) } ?? .null))
            #expect(object["dhash"] == (row.dhashHex.map(JSONValue.string) ?? .null))
            #expect(object["width"] == .number(Double(row.width)))
        }
    }

    private enum JSONLine: Decodable {
        case keys([String])
        case object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let keys = try? container.decode([String].self) {
                self = .keys(keys)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }
    }

    @Test func controlCharactersAndLineSeparatorsAreEscapedInJSON() {
        let row = ManifestRow(
            path: "a", imageID: 1, originalURL: "u", landingURL: nil, source: "s", license: nil,
            creator: "tab\there\u{01}\u{2028}", keyword: "k", split: nil, width: 1, height: 1, bytes: 1, format: "png",
            sha256: "x", dhash: nil)
        let json = row.jsonObject()
        #expect(json.contains(#""creator":"tab\there\u0001\u2028""#))
        #expect(!json.contains("\n"))
    }

    @Test func aRowIsBuiltFromAStoredImage() {
        let recorded = NewImage(
            originalURL: "https://x/y.jpg", filename: "y.jpg", storageURL: nil, width: 10, height: 20, fileSize: 300,
            format: .jpeg, sha256: "abc", perceptualHash: 0xff, keyword: "fox", source: "commons", license: "by-sa",
            licenseVersion: "4.0", creator: "Ann", landingURL: "https://x/page", title: nil)
        let image = ImageRecord(
            id: 9, jobID: 1, chunkID: nil, image: recorded, isValid: true, rejectionReason: nil,
            createdAt: Fixtures.referenceDate)
        let row = ManifestRow(image: image, path: "train/fox/9.jpg", split: .train)
        #expect(row.license == "by-sa 4.0")
        #expect(row.format == "jpeg")
        #expect(row.dhashHex == "00000000000000ff")
        #expect(row.bytes == 300)
        #expect(row.landingURL == "https://x/page")
    }

    @Test func keptColumnsAreOneJSONObjectInCSVAndJSON() throws {
        let recorded = NewImage(
            originalURL: "https://x/y.jpg", filename: "y.jpg", storageURL: nil, width: 10, height: 20, fileSize: 300,
            format: .jpeg, sha256: "abc", perceptualHash: nil, keyword: "fox", source: "urls", title: "a fox",
            keptColumns: ["similarity": "0.31", "photo_id": "p-1, \"a\""])
        let image = ImageRecord(
            id: 9, jobID: 1, chunkID: nil, image: recorded, isValid: true, rejectionReason: nil,
            createdAt: Fixtures.referenceDate)
        let row = ManifestRow(image: image, path: "fox/9.jpg", split: nil)
        let kept = #"{"photo_id":"p-1, \"a\"","similarity":"0.31"}"#
        #expect(row.keptColumnsJSON == kept)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(row.jsonObject().utf8)) as? [String: Any])
        #expect(object["kept_columns"] as? [String: String] == ["similarity": "0.31", "photo_id": "p-1, \"a\""])
        #expect(ManifestRow.columns.last == "kept_columns")
        #expect(row.csvRecord().hasSuffix(",\"" + kept.replacingOccurrences(of: "\"", with: "\"\"") + "\"\r\n"))
        let plain = ManifestRow(
            image: ImageRecord(
                id: 1, jobID: 1, chunkID: nil,
                image: NewImage(
                    originalURL: "https://x/z.jpg", filename: "z.jpg", storageURL: nil, width: 10, height: 20,
                    fileSize: 300, format: .jpeg, sha256: "abd", perceptualHash: nil, keyword: "fox", source: "urls"),
                isValid: true, rejectionReason: nil, createdAt: Fixtures.referenceDate), path: "fox/1.jpg", split: nil)
        #expect(plain.jsonObject().hasSuffix(#","kept_columns":null}"#))
    }

    @Test func aCancelledManifestLeavesNoFile() throws {
        let directory = try TemporaryDirectory()
        let writer = try ManifestWriter(destination: directory.file("manifest.csv"), format: .csv)
        try writer.append(rows()[0])
        writer.cancel()
        #expect(try directory.contents().isEmpty)
        #expect(throws: ExportError.self) { try writer.append(rows()[0]) }
    }
}
