import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the archive writers share: the output sink, one block buffer, and the open/closed state, with the
/// rules for when an error discards the archive (see ``run(_:)``).
final class StreamingCore {
    let sink: any ArchiveSink
    let block: UnsafeMutableRawBufferPointer
    private(set) var isOpen = true
    private let name: String

    init(sink: any ArchiveSink, blockSize: Int, name: String) {
        self.sink = sink
        self.block = .allocate(byteCount: blockSize, alignment: 64)
        self.name = name
    }

    deinit {
        if isOpen { sink.abort() }
        block.deallocate()
    }

    /// Runs one writer operation. Task cancellation, and any error after the operation has written a byte,
    /// discard the archive; an error before that (a bad path, a missing file, a size that does not match)
    /// leaves the writer open so the caller can skip the entry.
    func run<T>(_ body: () throws -> T) throws -> T {
        guard isOpen else { throw ExportError.writerClosed(name) }
        let start = sink.position
        do {
            try Task.checkCancellation()
            return try body()
        } catch {
            if error is CancellationError || sink.position != start { abandon() }
            throw error
        }
    }

    /// Runs the final operation and closes the writer; on any error the archive is discarded.
    func finish<T>(_ body: () throws -> T) throws -> T {
        guard isOpen else { throw ExportError.writerClosed(name) }
        do {
            try Task.checkCancellation()
            let result = try body()
            isOpen = false
            return result
        } catch {
            abandon()
            throw error
        }
    }

    func abandon() {
        guard isOpen else { return }
        isOpen = false
        sink.abort()
    }

    /// A prefix of the block buffer.
    func blockPrefix(_ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: block[0..<count])
    }

    /// Fills the block buffer from `source` until it is full or the source ends.
    /// - Returns: The bytes read and whether the source reported its end.
    func fill<Source: ArchiveByteSource>(
        from source: inout Source, entryPath: String
    ) throws -> (count: Int, ended: Bool) {
        var filled = 0
        while filled < block.count {
            let room = UnsafeMutableRawBufferPointer(rebasing: block[filled...])
            let got = try source.read(into: room)
            guard got >= 0 && got <= room.count else {
                throw ExportError.sourceChanged(
                    entryPath, "the byte source reported \(got) bytes for a \(room.count)-byte buffer")
            }
            if got == 0 { return (filled, true) }
            filled += got
        }
        return (filled, false)
    }
}

/// A local file opened for copying into an archive.
struct SourceFile {
    let path: String
    let size: UInt64
    let modified: Date
    private let descriptor: Int32

    /// Opens `url` and checks its size against the caller's expectation.
    init(url: URL, declaredSize: Int?, entryPath: String) throws {
        path = url.path
        descriptor = try POSIXFile.openFile(path, flags: O_RDONLY, operation: "open")
        do {
            let status = try POSIXFile.status(descriptor, path: path)
            if let declaredSize, UInt64(max(0, declaredSize)) != status.size || declaredSize < 0 {
                throw ExportError.sizeMismatch(entryPath, declared: UInt64(max(0, declaredSize)), actual: status.size)
            }
            size = status.size
            modified = status.modified
        } catch {
            POSIXFile.closeFile(descriptor)
            throw error
        }
        POSIXFile.adviseSequential(descriptor)
    }

    func close() {
        POSIXFile.closeFile(descriptor)
    }

    /// Reads exactly `buffer.count` bytes at `offset`, or throws if the file became shorter.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, entryPath: String) throws {
        let got = try POSIXFile.readFully(descriptor, into: buffer, at: offset, path: path)
        guard got == buffer.count else {
            throw ExportError.sourceChanged(entryPath, "the file ended after \(offset + UInt64(got)) of \(size) bytes")
        }
    }

    /// Copies the file through `core`'s block buffer into its sink, calling `observe` on every block.
    func stream(
        through core: StreamingCore, entryPath: String, observe: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) throws {
        var offset: UInt64 = 0
        while offset < size {
            try Task.checkCancellation()
            let chunk = core.blockPrefix(Int(min(UInt64(core.block.count), size - offset)))
            try read(into: chunk, at: offset, entryPath: entryPath)
            let bytes = UnsafeRawBufferPointer(chunk)
            observe(bytes)
            try core.sink.write(bytes)
            offset += UInt64(chunk.count)
        }
    }
}
