import Foundation
import PixCore

/// One exported image as the manifests (`manifest.csv`, `manifest.jsonl`, a WebDataset `KEY.json`) list it.
public struct ManifestRow: Sendable, Hashable {
    /// The image's path inside the archive (or its WebDataset key plus extension).
    public var path: String
    /// The image's database id.
    public var imageID: Int64
    /// The URL the image bytes were downloaded from.
    public var originalURL: String
    /// The page the image was found on, when the source gave one.
    public var landingURL: String?
    /// The source that found it (`openverse`, `commons`, `urls`).
    public var source: String
    /// The license as the source stated it (for example `by-sa 4.0`), when known.
    public var license: String?
    /// The creator as the source stated it, when known.
    public var creator: String?
    /// The keyword the image was crawled for.
    public var keyword: String
    /// The caption: a URL list's caption column, or the title the source gave.
    public var caption: String?
    /// The split the image was assigned to, when the export is split.
    public var split: DatasetSplit?
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// File size in bytes.
    public var bytes: Int
    /// Image format (`jpeg`, `png`).
    public var format: String
    /// SHA-256 of the image bytes, lowercase hex.
    public var sha256: String
    /// 64-bit difference hash, when computed.
    public var dhash: UInt64?
    /// What a resized export wrote instead of the original; `nil` for originals.
    public var resized: ResizedOutput?
    /// The URL list row's kept columns (`--keep-columns`), by column name; `nil` when none was kept.
    public var keptColumns: [String: String]?

    /// The output of a resized export: the original's dimensions (as displayed) and the output's, as a crawl-time
    /// derivative records them.
    public typealias ResizedOutput = ImageDerivative

    /// The extra columns of a resized export, after ``columns``.
    public static let resizedColumns = [
        "original_width", "original_height", "output_width", "output_height", "output_bytes", "output_sha256",
    ]

    /// The column names, in order, as they appear in the CSV header and the JSON objects.
    public static let columns = [
        "path", "image_id", "original_url", "landing_url", "source", "license", "creator", "keyword", "caption", "split",
        "width", "height", "bytes", "format", "sha256", "dhash", "kept_columns",
    ]

    /// Creates a row.
    /// - Parameters:
    ///   - path: Path inside the archive.
    ///   - imageID: Database id.
    ///   - originalURL: Download URL.
    ///   - landingURL: Page the image was found on.
    ///   - source: Source name.
    ///   - license: License text.
    ///   - creator: Creator text.
    ///   - keyword: Crawl keyword.
    ///   - split: Assigned split.
    ///   - width: Width in pixels.
    ///   - height: Height in pixels.
    ///   - bytes: File size.
    ///   - format: Image format name.
    ///   - sha256: SHA-256 hex.
    ///   - dhash: Difference hash.
    ///   - caption: The caption, when the image has one.
    public init(
        path: String, imageID: Int64, originalURL: String, landingURL: String?, source: String, license: String?,
        creator: String?, keyword: String, split: DatasetSplit?, width: Int, height: Int, bytes: Int, format: String,
        sha256: String, dhash: UInt64?, caption: String? = nil
    ) {
        self.caption = caption
        self.path = path
        self.imageID = imageID
        self.originalURL = originalURL
        self.landingURL = landingURL
        self.source = source
        self.license = license
        self.creator = creator
        self.keyword = keyword
        self.split = split
        self.width = width
        self.height = height
        self.bytes = bytes
        self.format = format
        self.sha256 = sha256
        self.dhash = dhash
    }

    /// Creates the row of a stored image. The license is the image's license followed by its version
    /// (`by-sa 4.0`) when both are known.
    /// - Parameters:
    ///   - image: The stored image.
    ///   - path: Its path inside the archive.
    ///   - split: Its split, if the export is split.
    public init(image: ImageRecord, path: String, split: DatasetSplit?) {
        let license = image.license.map { license in
            image.licenseVersion.map { "\(license) \($0)" } ?? license
        }
        self.init(
            path: path, imageID: image.id, originalURL: image.originalURL, landingURL: image.landingURL,
            source: image.source, license: license, creator: image.creator, keyword: image.keyword, split: split,
            width: image.width, height: image.height, bytes: image.fileSize, format: image.format.rawValue,
            sha256: image.sha256, dhash: image.perceptualHash,
            caption: image.title.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 })
        keptColumns = image.keptColumns
    }

    /// The kept columns as one JSON object, keys sorted, or `nil`.
    public var keptColumnsJSON: String? {
        keptColumns.map { columns in
            "{"
                + columns.keys.sorted().map { JSONText.quoted($0) + ":" + JSONText.quoted(columns[$0] ?? "") }
                .joined(separator: ",") + "}"
        }
    }

    /// The dHash as 16 lowercase hex digits, or `nil`.
    public var dhashHex: String? { dhash.map { Hex.string($0) } }

    /// The CSV header line (RFC 4180, CRLF-terminated).
    public static var csvHeader: String { columns.joined(separator: ",") + "\r\n" }

    /// The CSV header line of a resized export: ``columns`` then ``resizedColumns``.
    public static var resizedCSVHeader: String { (columns + resizedColumns).joined(separator: ",") + "\r\n" }

    /// This row as one CSV record (RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled;
    /// CRLF-terminated). Missing values are empty fields. Text that a spreadsheet would run as a formula
    /// (third-party creators and titles starting with `=`, `+`, `-`, `@`, a tab or a CR) gets a leading `'`.
    public func csvRecord() -> String {
        let fields: [String?] = [
            path, String(imageID), originalURL, landingURL, source, license, creator, keyword, caption, split?.rawValue,
            String(width), String(height), String(bytes), format, sha256, dhashHex, keptColumnsJSON,
        ]
        let resizedFields: [String?] =
            resized.map {
                [
                    String($0.originalWidth), String($0.originalHeight), String($0.width), String($0.height),
                    String($0.byteCount), $0.sha256,
                ]
            } ?? []
        return (fields + resizedFields).map { CSVText.field($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    /// This row as one JSON object on one line (no trailing newline), keys in ``columns`` order,
    /// missing values as `null`, numbers as numbers and the dHash as a hex string.
    public func jsonObject() -> String {
        var out = "{"
        func add(_ key: String, _ value: String) {
            if out.utf8.count > 1 { out += "," }
            out += JSONText.quoted(key) + ":" + value
        }
        func text(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        add("path", text(path))
        add("image_id", String(imageID))
        add("original_url", text(originalURL))
        add("landing_url", text(landingURL))
        add("source", text(source))
        add("license", text(license))
        add("creator", text(creator))
        add("keyword", text(keyword))
        add("caption", text(caption))
        add("split", text(split?.rawValue))
        add("width", String(width))
        add("height", String(height))
        add("bytes", String(bytes))
        add("format", text(format))
        add("sha256", text(sha256))
        add("dhash", text(dhashHex))
        add("kept_columns", keptColumnsJSON ?? "null")
        if let resized {
            add("original_width", String(resized.originalWidth))
            add("original_height", String(resized.originalHeight))
            add("output_width", String(resized.width))
            add("output_height", String(resized.height))
            add("output_bytes", String(resized.byteCount))
            add("output_sha256", text(resized.sha256))
        }
        return out + "}"
    }

}

/// RFC 4180 field quoting, made spreadsheet-safe (OWASP's CSV injection advice).
enum CSVText {
    /// First characters that make Excel, LibreOffice and Google Sheets read a cell as a formula.
    private static let formulaStarts: Set<UInt8> = [
        UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D,
    ]

    static func field(_ text: String) -> String {
        let value = text.utf8.first.map(formulaStarts.contains) == true ? "'" + text : text
        let needsQuotes = value.utf8.contains {
            $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n")
        }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// JSON string literals, escaped per RFC 8259 (plus U+2028/U+2029, which break JavaScript parsers).
enum JSONText {
    static func quoted(_ value: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(value.unicodeScalars.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{2028}", "\u{2029}":
                out += "\\u" + String(scalar.value, radix: 16)
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
