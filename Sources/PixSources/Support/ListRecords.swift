import Foundation

/// A URL list file's format.
public enum URLListFormat: String, Sendable, Hashable, CaseIterable {
    /// One URL per line, `#` comments.
    case text
    /// Comma-separated values with a header row.
    case csv
    /// Tab-separated values with a header row.
    case tsv
    /// One JSON object per line.
    case jsonl
}

/// How a URL list's bytes split into records: format detection, the CSV/TSV header and the data records with the
/// byte offsets they start at (what the row index remembers).
enum ListRecords {
    /// The format an extension names, else what the first meaningful line looks like.
    static func format(path: String, prefix: [UInt8]) -> URLListFormat {
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let ext = fileName.contains(".") ? fileName.split(separator: ".").last.map { $0.lowercased() } ?? "" : ""
        switch ext {
        case "txt", "list", "urls": return .text
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "jsonl", "ndjson", "json": return .jsonl
        default: break
        }
        let text = String(decoding: droppingBOM(prefix[...]), as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("{") { return .jsonl }
            let lineBytes = Array(trimmed.utf8)[...]
            if CSVRecord.fields(lineBytes, separator: 0x09).contains(where: { isURLColumn($0) }) { return .tsv }
            if CSVRecord.fields(lineBytes, separator: 0x2C).contains(where: { isURLColumn($0) }) { return .csv }
            return .text
        }
        return .text
    }

    /// The field separator of a CSV (`,`) or TSV (tab) record.
    static func separator(_ format: URLListFormat) -> UInt8 {
        format == .tsv ? 0x09 : 0x2C
    }

    /// The column names of a CSV or TSV list (trimmed, lowercased): its first non-blank record after any `#`
    /// lines, or `nil` when it has none.
    static func header(_ file: ListFile, format: URLListFormat) throws -> [String]? {
        var header: [String]?
        try forEachRecord(file, format: format, from: 0, blockSize: ListFile.blockSize, includingHeader: true) {
            record, _ in
            header = CSVRecord.fields(record, separator: separator(format)).map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            return false
        }
        return header
    }

    /// Calls `body` with every data record from `offset` on: for text, non-blank non-comment lines; for JSONL,
    /// non-blank lines; for CSV/TSV, non-blank records after the header (a record spans lines while a quoted field
    /// is open). `offset` is 0 or a record's start as reported here.
    static func forEachDataRecord(
        _ file: ListFile, format: URLListFormat, from offset: Int64, blockSize: Int = ListFile.blockSize,
        _ body: (_ record: ArraySlice<UInt8>, _ start: Int64) throws -> Bool
    ) throws {
        try forEachRecord(file, format: format, from: offset, blockSize: blockSize, includingHeader: false, body)
    }

    private static func forEachRecord(
        _ file: ListFile, format: URLListFormat, from offset: Int64, blockSize: Int, includingHeader: Bool,
        _ body: (_ record: ArraySlice<UInt8>, _ start: Int64) throws -> Bool
    ) throws {
        let skipsBOM = offset == 0
        switch format {
        case .text, .jsonl:
            let comments = format == .text
            try file.forEachLine(from: offset, blockSize: blockSize) { line, start in
                let line = skipsBOM && start == 0 ? droppingBOM(line) : line
                guard let first = line.first(where: { !isSpace($0) }) else { return true }
                if comments && first == UInt8(ascii: "#") { return true }
                return try body(line, start)
            }
        case .csv, .tsv:
            var record: [UInt8] = []
            var recordStart: Int64 = 0
            var openQuote = false
            var seenHeader = offset != 0
            try file.forEachLine(from: offset, blockSize: blockSize) { line, start in
                let line = skipsBOM && start == 0 ? droppingBOM(line) : line
                if !seenHeader && record.isEmpty && isComment(line) { return true }
                if record.isEmpty && !openQuote {
                    recordStart = start
                } else {
                    record.append(0x0A)
                }
                record += line
                for byte in line where byte == UInt8(ascii: "\"") { openQuote.toggle() }
                guard !openQuote else { return true }
                defer { record.removeAll(keepingCapacity: true) }
                guard record.contains(where: { !isSpace($0) }) else { return true }
                guard seenHeader else {
                    seenHeader = true
                    return includingHeader ? try body(record[...], recordStart) : true
                }
                return try body(record[...], recordStart)
            }
            if openQuote, !record.isEmpty, seenHeader {
                _ = try body(record[...], recordStart)
            }
        }
    }

    private static func isURLColumn(_ name: String) -> Bool {
        let name = name.trimmingCharacters(in: .whitespaces).lowercased()
        return name == "url" || name == "image_url"
    }

    private static func droppingBOM(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes
    }

    /// Whether a line's first non-blank character is `#`.
    private static func isComment(_ line: ArraySlice<UInt8>) -> Bool {
        line.first(where: { !isSpace($0) }) == UInt8(ascii: "#")
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }
}
