import Foundation

/// Writes a POSIX tar archive (ustar headers, pax extended headers for long or non-ASCII paths, sizes of
/// 8 GiB or more, and out-of-range times), optionally as one gzip stream (`.tar.gz`).
///
/// Entry data is streamed through a fixed block buffer; with gzip, compression happens on the same pass
/// and the archive's SHA-256 covers the compressed bytes. See ``ArchiveWriter`` for the lifecycle.
public final class TarWriter: ArchiveWriter {
    /// How the tar stream is stored.
    public enum Compression: Sendable, Hashable {
        /// A plain `.tar`.
        case none
        /// A `.tar.gz`: the tar stream deflated into one gzip member.
        /// - Parameter level: zlib level, 0 (store) … 9 (smallest); 1 is several times faster on images,
        ///   which barely compress; 6 is gzip's default.
        case gzip(level: Int = 6)
    }

    /// Where the archive appears when ``finish()`` succeeds.
    public let destination: URL
    /// Entries added so far.
    public private(set) var entryCount = 0
    /// Bytes of headers and entry data accepted so far, before compression.
    public var bytesWritten: Int { Int(core.sink.position) }

    private let core: StreamingCore

    /// Begins a tar archive: creates its temporary file next to `destination`.
    /// - Parameters:
    ///   - destination: Where the archive appears when ``finish()`` succeeds; an existing file there is replaced.
    ///   - compression: ``Compression/none`` for `.tar`, ``Compression/gzip(level:)`` for `.tar.gz`.
    ///   - options: Block size and durability.
    public init(destination: URL, compression: Compression = .none, options: ArchiveWriterOptions = .init()) throws {
        self.destination = destination
        let blockSize = options.effectiveBlockSize
        let file = try AtomicFileOutput(
            destination: destination, bufferSize: blockSize, synchronize: options.synchronizeOnFinish)
        let sink: any ArchiveSink
        switch compression {
        case .none:
            sink = file
        case .gzip(let level):
            guard (0...9).contains(level) else {
                file.abort()
                throw ExportError.invalidOption("gzip level \(level) is out of range; use 0 (store) … 9 (smallest)")
            }
            sink = try GzipOutput(file: file, level: Int32(level), bufferSize: 256 << 10)
        }
        core = StreamingCore(sink: sink, blockSize: blockSize, name: "tar writer")
    }

    /// Adds a local file as one entry; see ``ArchiveWriter/addFile(path:from:size:modified:)``.
    public func addFile(path: String, from fileURL: URL, size: Int?, modified: Date?) throws {
        try core.run {
            let name = try ArchivePath.validate(path)
            let file = try SourceFile(url: fileURL, declaredSize: size, entryPath: path)
            defer { file.close() }
            try core.sink.write(TarHeader.fileHeader(name: name, size: file.size, modified: modified ?? file.modified))
            try file.stream(through: core, entryPath: path)
            try finishEntry(size: file.size)
        }
    }

    /// Adds an entry streamed from a byte source; see ``ArchiveWriter/addEntry(path:size:modified:from:)``.
    public func addEntry<Source: ArchiveByteSource>(
        path: String, size: Int, modified: Date, from source: inout Source
    ) throws {
        try core.run {
            let name = try ArchivePath.validate(path)
            guard size >= 0 else { throw ExportError.sizeMismatch(path, declared: 0, actual: 0) }
            let declared = UInt64(size)
            try core.sink.write(TarHeader.fileHeader(name: name, size: declared, modified: modified))
            var total: UInt64 = 0
            while true {
                try Task.checkCancellation()
                let next = try core.fill(from: &source, entryPath: path)
                total += UInt64(next.count)
                guard total <= declared else {
                    throw ExportError.sizeMismatch(path, declared: declared, actual: total)
                }
                try core.sink.write(UnsafeRawBufferPointer(core.blockPrefix(next.count)))
                if next.ended { break }
            }
            guard total == declared else { throw ExportError.sizeMismatch(path, declared: declared, actual: total) }
            try finishEntry(size: declared)
        }
    }

    /// Adds an entry from bytes in memory; see ``ArchiveWriter/addData(path:bytes:modified:)``.
    public func addData(path: String, bytes: some ContiguousBytes, modified: Date) throws {
        try core.run {
            let name = try ArchivePath.validate(path)
            try bytes.withUnsafeBytes { data in
                try core.sink.write(TarHeader.fileHeader(name: name, size: UInt64(data.count), modified: modified))
                try core.sink.write(data)
                try finishEntry(size: UInt64(data.count))
            }
        }
    }

    /// Writes the trailer and publishes the archive; see ``ArchiveWriter/finish()``.
    public func finish() throws -> ArchiveSummary {
        try core.finish {
            try core.sink.write(TarHeader.zeroBlocks)  // end-of-archive: two zero blocks
            let published = try core.sink.finish()
            return ArchiveSummary(
                url: published.url, size: Int(published.size), sha256: published.sha256, entryCount: entryCount)
        }
    }

    /// Abandons the archive and removes its temporary file.
    public func cancel() {
        core.abandon()
    }

    private func finishEntry(size: UInt64) throws {
        let padding = TarHeader.padding(for: size)
        if !padding.isEmpty {
            try padding.withUnsafeBytes { try core.sink.write($0) }
        }
        entryCount += 1
    }
}
