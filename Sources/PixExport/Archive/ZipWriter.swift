import Foundation

/// Writes a ZIP archive streaming, with every entry stored (JPEG and PNG do not shrink under deflate).
///
/// CRC-32 is computed while streaming. A file that fits in one block (most images) is read once; a larger
/// file is read twice (CRC first, then data) so every local header carries its CRC and sizes, which keeps
/// the archive readable by streaming unzippers. Entries from an ``ArchiveByteSource`` larger than one block
/// use a data descriptor instead. ZIP64 fields appear only when needed: an entry of 4 GiB or more, an
/// offset past 4 GiB, or 65,535 entries or more. Non-ASCII names set the UTF-8 flag. The central directory
/// spills to an unlinked scratch file beyond 1 MiB, so memory stays bounded however many entries there are.
///
/// See ``ArchiveWriter`` for the lifecycle (temporary file, atomic publish, cancellation).
public final class ZipWriter: ArchiveWriter {
    /// Where the archive appears when ``finish()`` succeeds.
    public let destination: URL
    /// Entries added so far.
    public private(set) var entryCount = 0
    /// Bytes of headers and entry data accepted so far, before compression.
    public var bytesWritten: Int { Int(core.sink.position) }

    private let core: StreamingCore
    private let centralDirectory: SpillBuffer

    /// Begins a ZIP archive: creates its temporary file next to `destination`.
    /// - Parameters:
    ///   - destination: Where the archive appears when ``finish()`` succeeds; an existing file there is replaced.
    ///   - options: Block size and durability.
    public init(destination: URL, options: ArchiveWriterOptions = .init()) throws {
        self.destination = destination
        let output = try AtomicFileOutput(
            destination: destination, bufferSize: options.effectiveBlockSize,
            synchronize: options.synchronizeOnFinish)
        core = StreamingCore(sink: output, blockSize: options.effectiveBlockSize, name: "ZIP writer")
        centralDirectory = SpillBuffer(directory: destination.deletingLastPathComponent(), threshold: 1 << 20)
    }

    /// Adds a local file as one entry; see ``ArchiveWriter/addFile(path:from:size:modified:)``.
    public func addFile(path: String, from fileURL: URL, size: Int?, modified: Date?) throws {
        try core.run {
            let name = try ArchivePath.validate(path)
            let file = try SourceFile(url: fileURL, declaredSize: size, entryPath: path)
            defer { file.close() }
            let modified = modified ?? file.modified

            if file.size <= UInt64(core.block.count) {
                let data = core.blockPrefix(Int(file.size))
                try file.read(into: data, at: 0, entryPath: path)
                try writeEntry(name: name, data: UnsafeRawBufferPointer(data), modified: modified)
                return
            }

            var firstPass = CRC32()
            var offset: UInt64 = 0
            while offset < file.size {
                try Task.checkCancellation()
                let chunk = core.blockPrefix(Int(min(UInt64(core.block.count), file.size - offset)))
                try file.read(into: chunk, at: offset, entryPath: path)
                firstPass.update(UnsafeRawBufferPointer(chunk))
                offset += UInt64(chunk.count)
            }
            let headerOffset = core.sink.position
            try core.sink.write(
                ZipRecords.localFileHeader(
                    name: name, crc: firstPass.value, size: file.size, modified: modified, dataDescriptor: false))
            var secondPass = CRC32()
            try file.stream(through: core, entryPath: path) { secondPass.update($0) }
            guard secondPass.value == firstPass.value else {
                throw ExportError.sourceChanged(path, "its CRC-32 differed between two reads")
            }
            try record(
                ZipEntry(
                    name: name, crc: firstPass.value, size: file.size, localHeaderOffset: headerOffset,
                    modified: modified, usesDataDescriptor: false))
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
            let first = try core.fill(from: &source, entryPath: path)
            if first.ended {
                guard UInt64(first.count) == declared else {
                    throw ExportError.sizeMismatch(path, declared: declared, actual: UInt64(first.count))
                }
                try writeEntry(
                    name: name, data: UnsafeRawBufferPointer(core.blockPrefix(first.count)), modified: modified)
                return
            }

            // Larger than one block and not re-readable: CRC and sizes follow the data in a descriptor.
            let headerOffset = core.sink.position
            try core.sink.write(
                ZipRecords.localFileHeader(name: name, crc: 0, size: declared, modified: modified, dataDescriptor: true)
            )
            var crc = CRC32()
            var total: UInt64 = 0
            var chunk = UnsafeRawBufferPointer(core.blockPrefix(first.count))
            while true {
                total += UInt64(chunk.count)
                guard total <= declared else {
                    throw ExportError.sizeMismatch(path, declared: declared, actual: total)
                }
                crc.update(chunk)
                try core.sink.write(chunk)
                try Task.checkCancellation()
                let next = try core.fill(from: &source, entryPath: path)
                chunk = UnsafeRawBufferPointer(core.blockPrefix(next.count))
                if next.ended {
                    total += UInt64(next.count)
                    guard total == declared else {
                        throw ExportError.sizeMismatch(path, declared: declared, actual: total)
                    }
                    crc.update(chunk)
                    try core.sink.write(chunk)
                    break
                }
            }
            try core.sink.write(
                ZipRecords.dataDescriptor(crc: crc.value, size: total, zip64: ZipRecords.needsZip64(declared)))
            try record(
                ZipEntry(
                    name: name, crc: crc.value, size: total, localHeaderOffset: headerOffset, modified: modified,
                    usesDataDescriptor: true))
        }
    }

    /// Adds an entry from bytes in memory; see ``ArchiveWriter/addData(path:bytes:modified:)``.
    public func addData(path: String, bytes: some ContiguousBytes, modified: Date) throws {
        try core.run {
            let name = try ArchivePath.validate(path)
            try bytes.withUnsafeBytes { data in
                try writeEntry(name: name, data: data, modified: modified)
            }
        }
    }

    /// Writes the trailer and publishes the archive; see ``ArchiveWriter/finish()``.
    public func finish() throws -> ArchiveSummary {
        try core.finish {
            let directoryOffset = core.sink.position
            try centralDirectory.drain(into: core.sink, block: core.block)
            let directorySize = core.sink.position - directoryOffset
            try core.sink.write(
                ZipRecords.endOfCentralDirectory(
                    entryCount: UInt64(entryCount), directorySize: directorySize, directoryOffset: directoryOffset))
            let published = try core.sink.finish()
            return ArchiveSummary(
                url: published.url, size: Int(published.size), sha256: published.sha256, entryCount: entryCount)
        }
    }

    /// Abandons the archive and removes its temporary file.
    public func cancel() {
        core.abandon()
    }

    /// Writes a local header with the CRC known, then the data, then records the entry.
    private func writeEntry(name: [UInt8], data: UnsafeRawBufferPointer, modified: Date) throws {
        let crc = CRC32.checksum(data)
        let headerOffset = core.sink.position
        let size = UInt64(data.count)
        try core.sink.write(
            ZipRecords.localFileHeader(name: name, crc: crc, size: size, modified: modified, dataDescriptor: false))
        try core.sink.write(data)
        try record(
            ZipEntry(
                name: name, crc: crc, size: size, localHeaderOffset: headerOffset, modified: modified,
                usesDataDescriptor: false))
    }

    private func record(_ entry: ZipEntry) throws {
        try centralDirectory.append(ZipRecords.centralDirectoryHeader(entry))
        entryCount += 1
    }
}
