import Foundation

/// Streams manifest rows to a CSV or JSON Lines file, published atomically like an archive.
///
/// Use it for a manifest-only export, or to build `manifest.csv` / `manifest.jsonl` in a scratch directory
/// while images stream into an archive, then add the finished file with ``ArchiveWriter/addFile(path:from:)``.
/// Memory stays bounded by the output buffer however many rows there are.
public final class ManifestWriter {
    /// A manifest file format.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// RFC 4180 CSV with a header row and CRLF line ends.
        case csv
        /// One JSON object per line, LF line ends.
        case jsonl

        /// The conventional file name inside an archive: `manifest.csv` or `manifest.jsonl`.
        public var fileName: String { "manifest.\(rawValue)" }
    }

    /// Where the manifest appears when ``finish()`` succeeds.
    public let destination: URL
    /// The format being written.
    public let format: Format
    /// Rows appended so far.
    public private(set) var rowCount = 0

    private let output: AtomicFileOutput
    private var isOpen = true

    /// Begins a manifest: creates its temporary file and, for CSV, writes the header row.
    /// - Parameters:
    ///   - destination: Where the manifest appears when finished; an existing file there is replaced.
    ///   - format: CSV or JSON Lines.
    ///   - options: Buffer size and durability.
    ///   - resized: The rows describe resized outputs (CSV: the header adds ``ManifestRow/resizedColumns``).
    public init(
        destination: URL, format: Format, options: ArchiveWriterOptions = .init(), resized: Bool = false
    ) throws {
        self.destination = destination
        self.format = format
        output = try AtomicFileOutput(
            destination: destination, bufferSize: options.effectiveBlockSize, synchronize: options.synchronizeOnFinish)
        if format == .csv { try write(resized ? ManifestRow.resizedCSVHeader : ManifestRow.csvHeader) }
    }

    /// Appends one row.
    /// - Parameter row: The exported image's row.
    public func append(_ row: ManifestRow) throws {
        switch format {
        case .csv: try write(row.csvRecord())
        case .jsonl: try write(row.jsonObject() + "\n")
        }
        rowCount += 1
    }

    /// Flushes, syncs and publishes the manifest.
    /// - Returns: Its size and SHA-256; ``ArchiveSummary/entryCount`` is the number of rows.
    public func finish() throws -> ArchiveSummary {
        guard isOpen else { throw ExportError.writerClosed("manifest writer") }
        isOpen = false
        let published = try output.finish()
        return ArchiveSummary(
            url: published.url, size: Int(published.size), sha256: published.sha256, entryCount: rowCount)
    }

    /// Abandons the manifest and removes its temporary file.
    public func cancel() {
        isOpen = false
        output.abort()
    }

    private func write(_ text: String) throws {
        guard isOpen else { throw ExportError.writerClosed("manifest writer") }
        var text = text
        do {
            try text.withUTF8 { try output.write(UnsafeRawBufferPointer($0)) }
        } catch {
            cancel()
            throw error
        }
    }
}
