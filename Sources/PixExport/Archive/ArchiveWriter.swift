import Foundation

/// A streaming writer of one archive file (zip, tar or tar.gz), fed one entry at a time.
///
/// Creating a writer begins the archive: it opens a hidden temporary file next to ``destination``.
/// Each `add…` call streams one entry through a fixed-size block buffer, so memory stays bounded
/// whatever the number and size of entries, and the archive's SHA-256 is computed while it is written.
/// ``finish()`` publishes the archive under its final name with an atomic rename; a half-written
/// archive is never visible there. ``cancel()``, task cancellation (checked between blocks) and any error
/// once an entry has started to be written remove the temporary file, and so does releasing an unfinished
/// writer; after any of these the writer is closed and every further call throws
/// ``ExportError/Code/writerClosed``. An error before an entry's first byte is written (an invalid path,
/// a missing or resized file) leaves the writer open, so a caller may log it and skip that entry.
///
/// Writers do blocking file I/O on the calling thread and are not `Sendable`: use one from one task.
/// Entry paths are relative, `/`-separated, without `.`/`..` components, backslashes or control
/// characters. The writer does not detect duplicate paths; give each entry a unique one.
public protocol ArchiveWriter: AnyObject {
    /// Where the archive appears when ``finish()`` succeeds.
    var destination: URL { get }
    /// Entries added so far.
    var entryCount: Int { get }
    /// Bytes of entry content and headers accepted so far (before compression), for progress reports.
    var bytesWritten: Int { get }

    /// Adds a file from disk as one entry, reading it in blocks.
    /// - Parameters:
    ///   - path: The entry's path inside the archive.
    ///   - fileURL: A local file to copy.
    ///   - size: The size the caller expects (for example the stored `file_size`); a different size on disk
    ///     throws ``ExportError/Code/sizeMismatch``. `nil` takes the size from the file.
    ///   - modified: The entry's modification time; `nil` takes the file's.
    func addFile(path: String, from fileURL: URL, size: Int?, modified: Date?) throws

    /// Adds an entry whose bytes come from a byte source, read in blocks until it reports the end.
    /// - Parameters:
    ///   - path: The entry's path inside the archive.
    ///   - size: The exact number of bytes the source delivers; tar needs it before the data.
    ///   - modified: The entry's modification time.
    ///   - source: The bytes; a source delivering more or fewer than `size` bytes throws
    ///     ``ExportError/Code/sizeMismatch`` and discards the archive.
    func addEntry<Source: ArchiveByteSource>(path: String, size: Int, modified: Date, from source: inout Source) throws

    /// Adds an entry from bytes in memory (a manifest, a JSON sidecar, a caption).
    /// - Parameters:
    ///   - path: The entry's path inside the archive.
    ///   - bytes: The entry's content.
    ///   - modified: The entry's modification time.
    func addData(path: String, bytes: some ContiguousBytes, modified: Date) throws

    /// Writes the archive's trailer, flushes and syncs it, and renames it to ``destination``.
    /// - Returns: The published archive's size, SHA-256 and entry count.
    func finish() throws -> ArchiveSummary

    /// Abandons the archive and removes its temporary file. Does nothing after ``finish()``.
    func cancel()
}

extension ArchiveWriter {
    /// Adds a file from disk with its own size and modification time.
    /// - Parameters:
    ///   - path: The entry's path inside the archive.
    ///   - fileURL: A local file to copy.
    public func addFile(path: String, from fileURL: URL) throws {
        try addFile(path: path, from: fileURL, size: nil, modified: nil)
    }
}

/// A producer of an entry's bytes for ``ArchiveWriter/addEntry(path:size:modified:from:)``.
///
/// Conform a blob reader (an object-store download, a decompressor) to stream entries that are not
/// local files.
public protocol ArchiveByteSource {
    /// Fills the front of `buffer` with the next bytes.
    /// - Parameter buffer: Where to put the bytes; never empty.
    /// - Returns: How many bytes were written to `buffer`; `0` only at the end of the data.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// What a finished archive (or manifest, or shard) is: where, how big, its SHA-256 and how many entries.
public struct ArchiveSummary: Sendable, Hashable {
    /// The published file.
    public var url: URL
    /// The file's size in bytes.
    public var size: Int
    /// The SHA-256 of the file's bytes, 64 lowercase hex digits.
    public var sha256: String
    /// Entries (or rows, for a manifest) in the file.
    public var entryCount: Int

    /// Creates a summary.
    /// - Parameters:
    ///   - url: The published file.
    ///   - size: Its size in bytes.
    ///   - sha256: Its SHA-256 as lowercase hex.
    ///   - entryCount: Entries or rows in it.
    public init(url: URL, size: Int, sha256: String, entryCount: Int) {
        self.url = url
        self.size = size
        self.sha256 = sha256
        self.entryCount = entryCount
    }
}

/// Tuning shared by every writer in this module.
public struct ArchiveWriterOptions: Sendable, Hashable {
    /// Size of the block buffer entries are streamed through, and of the output buffer (clamped to 64 KiB–64 MiB).
    public var blockSize: Int
    /// Whether ``ArchiveWriter/finish()`` calls `fsync` on the file and its directory around the rename,
    /// so a published archive survives a power loss. Turn off only for scratch files.
    public var synchronizeOnFinish: Bool

    /// Creates options.
    /// - Parameters:
    ///   - blockSize: Block buffer size in bytes; default 1 MiB.
    ///   - synchronizeOnFinish: Whether to `fsync` on finish; default `true`.
    public init(blockSize: Int = 1 << 20, synchronizeOnFinish: Bool = true) {
        self.blockSize = blockSize
        self.synchronizeOnFinish = synchronizeOnFinish
    }

    var effectiveBlockSize: Int { min(max(blockSize, 64 << 10), 64 << 20) }
}

/// The single-file archive formats, for choosing a writer at run time.
public enum ArchiveFormat: String, Sendable, Hashable, CaseIterable {
    /// ZIP with stored (uncompressed) entries, ZIP64 when needed.
    case zip
    /// POSIX tar (ustar with pax extended headers).
    case tar
    /// POSIX tar compressed as one gzip stream.
    case tarGzip = "tar.gz"

    /// The file name extension, without the leading dot.
    public var fileExtension: String { rawValue }

    /// Begins an archive of this format.
    /// - Parameters:
    ///   - destination: Where the archive appears when it is finished.
    ///   - options: Block size and durability.
    /// - Returns: A writer positioned at the first entry.
    public func makeWriter(destination: URL, options: ArchiveWriterOptions = .init()) throws -> any ArchiveWriter {
        switch self {
        case .zip: try ZipWriter(destination: destination, options: options)
        case .tar: try TarWriter(destination: destination, compression: .none, options: options)
        case .tarGzip: try TarWriter(destination: destination, compression: .gzip(), options: options)
        }
    }
}
