import Foundation
import Logging
import PixCore
import Synchronization

/// A local list of image URLs, as img2dataset users already have: plain text, CSV/TSV or JSON Lines.
///
/// - **Text**: one URL per line; blank lines and lines starting with `#` are skipped.
/// - **CSV** (or **TSV**): a header row naming a `url` column and optionally `label` or `keyword`, `license`,
///   `license_version`, `caption` or `title`, `creator`, `landing_url`; RFC 4180 quoting (quoted fields may hold
///   commas, doubled quotes and line breaks); `#` lines before the header are skipped.
/// - **JSONL**: one object per line with the same keys.
///
/// The format comes from the extension (`.txt`, `.csv`, `.tsv`, `.jsonl`/`.ndjson`) or, failing that, from the
/// content. Positions are data-row indices (0-based: the first URL is position 0, whatever comments, blank lines or
/// header precede it), so a chunk is a range of rows. A candidate's keyword is its row's label when it has one,
/// else the chunk's keyword.
///
/// The file is streamed: the first call scans it once to count rows and remember the byte offset of every
/// 256th row (a million-row list costs a few kilobytes of index); each page then reads only its own rows. The
/// index is rebuilt if the file changes. Rows without a URL, and JSONL lines that are not JSON objects, are
/// skipped with a warning.
public final class URLListSource: ImageSource {
    /// A list file's format.
    public typealias Format = URLListFormat

    /// Which columns hold the URL, the caption and the expected SHA-256 (img2dataset's `--url_col`,
    /// `--caption_col`; `nil` for the default names: `url`/`image_url`, `caption`/`title`, `sha256`/`hash`).
    public struct Columns: Sendable, Hashable {
        /// The URL column.
        public var url: String?
        /// The caption column.
        public var caption: String?
        /// The SHA-256 column, checked against the downloaded bytes.
        public var hash: String?
        /// Columns stored with each image (img2dataset's `--save_additional_columns`); ``allColumns`` alone keeps
        /// every column of the row.
        public var keep: [String]

        /// What `keep` holds to keep every column (`--keep-columns all`).
        public static let allColumns = "*"

        /// Column names to keep as a user gives them (`a,b` items, or `all`), for ``keep``.
        public static func kept(named names: [String]) -> [String] {
            let names = names.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            return names.map { $0.lowercased() } == ["all"] ? [allColumns] : names
        }

        /// Default names for every column not given.
        public init(url: String? = nil, caption: String? = nil, hash: String? = nil, keep: [String] = []) {
            self.url = url?.lowercased()
            self.caption = caption?.lowercased()
            self.hash = hash?.lowercased()
            self.keep = keep.map { $0.lowercased() }
        }

        /// `?url=…&caption=…&hash=…&keep=A,B` for the columns given (percent-encoded), empty when none is.
        static func query(_ columns: Columns) -> String {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.*"))
            let kept = columns.keep.isEmpty ? nil : columns.keep
            let pairs =
                [("url", columns.url), ("caption", columns.caption), ("hash", columns.hash)].compactMap {
                    name, value in
                    value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
                }
                + (kept.map {
                    ["keep=" + $0.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: ",")]
                } ?? [])
            return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
        }

        /// Refuses kept columns the list does not have.
        /// - Parameters:
        ///   - available: the list's columns (a CSV/TSV header, a JSONL list's first-row keys).
        ///   - format: the list's format (a plain-text list has no columns).
        ///   - source: the specification, for the error.
        /// - Throws: ``SourceError`` with ``SourceError/Code/invalidSpec`` naming the unknown columns.
        func checkKept(available: [String], format: Format, source: String) throws(SourceError) {
            guard !keep.isEmpty else { return }
            guard format != .text else {
                throw SourceError(
                    .invalidSpec, source: source, message: "a plain-text list has no columns to keep; drop --keep-columns")
            }
            guard keep != [Self.allColumns] else { return }
            let unknown = keep.filter { !available.contains($0) }
            guard unknown.isEmpty else {
                throw SourceError(
                    .invalidSpec, source: source,
                    message: "unknown column\(unknown.count == 1 ? "" : "s") to keep: \(unknown.joined(separator: ", "));"
                        + " the list has \(available.joined(separator: ", ")) (or keep all)")
            }
        }

        /// The kept columns of a row's `fields`, or `nil` when none is kept or present.
        func kept(from fields: [String: String], order: [String]) -> [String: String]? {
            guard !keep.isEmpty else { return nil }
            let names = keep == [Self.allColumns] ? (order.isEmpty ? Array(fields.keys) : order) : keep
            var kept: [String: String] = [:]
            for name in names { if let value = fields[name] { kept[name] = value } }
            return kept.isEmpty ? nil : kept
        }

        /// The names tried for the URL.
        var urlNames: [String] { url.map { [$0] } ?? ["url", "image_url"] }
        /// The names tried for the caption.
        var captionNames: [String] { caption.map { [$0] } ?? ["caption", "title"] }
        /// The names tried for the SHA-256.
        var hashNames: [String] { hash.map { [$0] } ?? ["sha256", "hash"] }
    }

    /// `urls` unless given another name.
    public let name: String
    /// The columns read.
    public let columnNames: Columns
    /// The list file.
    public let path: String
    /// The file's format, as given or detected.
    public let format: Format
    /// A local list has no depth limit (`nil`); a staged list serves its row count.
    public let maxDepth: Int?
    /// Rows returned per call at most.
    public let pageSize: Int

    private let header: [String]?
    /// The CSV/TSV header's column names (lowercased), empty for text and JSONL.
    var columns: [String] { header ?? [] }
    private let logger: Logger
    private let index = Mutex<RowIndex?>(nil)
    /// The staged list this source reads, when it reads one.
    private let staged: (store: any ListObjectStore, list: StagedList)?

    /// Opens a list file, detects its format and reads its header.
    /// - Parameters:
    ///   - path: the file.
    ///   - format: the format, or `nil` to detect it from the extension and content.
    ///   - name: the source name stored on chunks and images.
    ///   - pageSize: rows returned per call at most.
    ///   - logger: receives warnings about skipped rows.
    /// - Throws: ``SourceError`` with ``SourceError/Code/fileUnreadable`` when the file is missing or unreadable,
    ///   or a CSV/TSV header has no `url` column.
    public init(
        path: String, format: Format? = nil, columns: Columns = Columns(), name: String = "urls",
        pageSize: Int = 1000, logger: Logger
    ) throws(SourceError) {
        self.path = path
        columnNames = columns
        self.name = name
        self.pageSize = max(1, pageSize)
        self.logger = logger
        maxDepth = nil
        staged = nil
        let file = try Self.open(path, name: name)
        let prefix = (try? file.read(at: 0, count: 64 * 1024)) ?? []
        let detected = format ?? ListRecords.format(path: path, prefix: prefix)
        self.format = detected
        if detected == .csv || detected == .tsv {
            header = try Self.readHeader(file, format: detected, urlNames: columns.urlNames, name: name)
            try columns.checkKept(available: header ?? [], format: detected, source: "urls:\(path)")
        } else {
            header = nil
            if detected == .text { try columns.checkKept(available: [], format: detected, source: "urls:\(path)") }
        }
    }

    /// Reads a staged list (``URLListStaging``) from the shared storage: its description, then per page only the
    /// rows asked for, found through the stored row-offset index.
    /// - Parameters:
    ///   - id: the list's id (its SHA-256).
    ///   - store: the storage the list was staged into.
    ///   - name: the source name stored on chunks and images.
    ///   - pageSize: rows returned per call at most.
    ///   - logger: receives warnings about skipped rows.
    /// - Throws: ``SourceError`` with ``SourceError/Code/fileUnreadable`` when the list is not in `store`.
    public init(
        stagedList id: String, store: any ListObjectStore, columns: Columns = Columns(), name: String = "urls",
        pageSize: Int = 1000, logger: Logger
    ) throws(SourceError) {
        let list = try URLListStaging.description(of: id, in: store, source: name)
        columnNames = columns
        path = "list:\(id)"
        self.name = name
        self.pageSize = max(1, pageSize)
        self.logger = logger
        format = list.format
        header = list.format == .csv || list.format == .tsv ? list.columns : nil
        maxDepth = list.rows
        staged = (store, list)
        try columns.checkKept(available: list.columns, format: list.format, source: path)
    }

    /// The number of data rows (URLs) in the list, counting the file once and caching the answer until it changes.
    /// - Throws: ``SourceError`` when the file cannot be read.
    public func count() throws -> Int {
        if let staged { return staged.list.rows }
        return try rowIndex(try openFile()).count
    }

    /// The list's bytes: the local file, or the staged list object.
    private func openFile() throws(SourceError) -> ListFile {
        if let staged { return ListFile(object: URLListStaging.dataKey(staged.list.sha256), in: staged.store) }
        return try Self.open(path, name: name)
    }

    /// The rows at positions `cursor` (or `range.lowerBound`) onwards, up to ``pageSize`` of them, within `range`.
    /// - Parameters:
    ///   - keyword: the chunk's keyword; a row's own label takes precedence.
    ///   - range: row positions of the chunk.
    ///   - cursor: the `nextCursor` of the previous call, or `nil` to start at `range.lowerBound`.
    /// - Throws: ``SourceError``.
    public func page(keyword: String, range: Range<Int>, cursor: String?) async throws -> SourcePage {
        let start = try SourceCursor.start(cursor, in: range, source: name, keyword: keyword)
        let file = try openFile()
        let index = try rowIndex(file)
        let end = min(range.upperBound, start + pageSize, index.count)
        guard start < end else {
            return SourcePage(
                candidates: [], nextCursor: nil, exhausted: start >= index.count, totalAvailable: index.count)
        }
        var candidates: [ImageCandidate] = []
        candidates.reserveCapacity(end - start)
        try readRows(file, index: index, from: start, to: end) { position, record in
            if let candidate = candidate(from: record, position: position, keyword: keyword) {
                candidates.append(candidate)
            }
        }
        let nextCursor = end < range.upperBound && end < index.count ? String(end) : nil
        return SourcePage(
            candidates: candidates, nextCursor: nextCursor, exhausted: end >= index.count,
            totalAvailable: index.count)
    }

    // MARK: - Index

    /// Row count and the byte offset of every `stride`-th data row.
    struct RowIndex: Sendable {
        static let stride = 256
        var stamp: ListFile.Stamp
        var count: Int
        var checkpoints: [Int64]
    }

    private func rowIndex(_ file: ListFile) throws(SourceError) -> RowIndex {
        let stamp = file.stamp()
        if let staged { return RowIndex(stamp: stamp, count: staged.list.rows, checkpoints: []) }
        if let cached = index.withLock({ $0 }), cached.stamp == stamp { return cached }
        var count = 0
        var checkpoints: [Int64] = []
        do {
            try ListRecords.forEachDataRecord(file, format: format, from: 0) { _, start in
                if count % RowIndex.stride == 0 { checkpoints.append(start) }
                count += 1
                return true
            }
        } catch {
            throw unreadable(error)
        }
        let built = RowIndex(stamp: stamp, count: count, checkpoints: checkpoints)
        index.withLock { $0 = built }
        return built
    }

    private func readRows(
        _ file: ListFile, index: RowIndex, from start: Int, to end: Int,
        _ body: (_ position: Int, _ record: ArraySlice<UInt8>) -> Void
    ) throws(SourceError) {
        let checkpoint = start / RowIndex.stride
        var position = checkpoint * RowIndex.stride
        let offset: Int64
        if let staged {
            offset = try URLListStaging.checkpoint(checkpoint, of: staged.list, in: staged.store, source: name)
        } else {
            offset = index.checkpoints[checkpoint]
        }
        do {
            try ListRecords.forEachDataRecord(file, format: format, from: offset) { record, _ in
                if position >= start { body(position, record) }
                position += 1
                return position < end
            }
        } catch {
            throw unreadable(error)
        }
    }

    // MARK: - Rows

    private func candidate(from record: ArraySlice<UInt8>, position: Int, keyword: String) -> ImageCandidate? {
        var fields: [String: String] = [:]
        switch format {
        case .text:
            let url = String(decoding: record, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return ImageCandidate(url: url, keyword: keyword, source: name, position: position)
        case .csv, .tsv:
            let values = CSVRecord.fields(record, separator: ListRecords.separator(format))
            for (column, value) in zip(header ?? [], values) where fields[column] == nil {
                fields[column] = value
            }
        case .jsonl:
            guard let object = try? JSONDecoder().decode(JSONObjectFields.self, from: Data(record)) else {
                logger.warning(
                    "skipping a list row that is not a JSON object",
                    metadata: ["pixcrawl.source": "\(name)", "pixcrawl.row": "\(position)", "pixcrawl.file": "\(path)"])
                return nil
            }
            for (key, value) in object.fields { fields[key.lowercased()] = value }
        }
        func field(_ names: String...) -> String? { field(names) }
        func field(_ names: [String]) -> String? {
            for name in names {
                if let value = fields[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
            }
            return nil
        }
        guard let url = field(columnNames.urlNames) else {
            logger.warning(
                "skipping a list row without a URL",
                metadata: ["pixcrawl.source": "\(name)", "pixcrawl.row": "\(position)", "pixcrawl.file": "\(path)"])
            return nil
        }
        return ImageCandidate(
            url: url, keyword: field("label", "keyword") ?? keyword, source: name, position: position,
            license: field("license"), licenseVersion: field("license_version"), creator: field("creator", "author"),
            landingURL: field("landing_url", "foreign_landing_url", "page_url"), title: field(columnNames.captionNames),
            expectedSHA256: field(columnNames.hashNames), keptColumns: columnNames.kept(from: fields, order: header ?? []))
    }

    // MARK: - Opening and detection

    private static func open(_ path: String, name: String) throws(SourceError) -> ListFile {
        do {
            return try ListFile(path: path)
        } catch {
            throw SourceError(
                .fileUnreadable, source: name,
                message: "cannot read the URL list '\(path)': \(error.reason); give an existing text, CSV or JSONL file"
            )
        }
    }

    private func unreadable(_ error: any Error) -> SourceError {
        let reason = (error as? ListFileError)?.reason ?? "\(error)"
        return SourceError(.fileUnreadable, source: name, message: "cannot read the URL list '\(path)': \(reason)")
    }

    private static func readHeader(_ file: ListFile, format: Format, urlNames: [String], name: String)
        throws(SourceError) -> [String]
    {
        let header: [String]?
        do {
            header = try ListRecords.header(file, format: format)
        } catch {
            throw SourceError(
                .fileUnreadable, source: name,
                message: "cannot read the URL list '\(file.path)': \((error as? ListFileError)?.reason ?? "\(error)")")
        }
        guard let header, header.contains(where: urlNames.contains) else {
            throw SourceError(
                .fileUnreadable, source: name,
                message: "the \(format.rawValue.uppercased()) list '\(file.path)' has no '\(urlNames[0])' column in its "
                    + "header (found: \((header ?? []).joined(separator: ", "))); name the URL column 'url' or give "
                    + "--url-col")
        }
        return header
    }
}
