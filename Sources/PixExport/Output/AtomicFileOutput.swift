import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A buffered file written under a hidden temporary name, hashed with SHA-256 as it goes, and renamed
/// to its destination only when finished. Aborting or releasing it unfinished removes the temporary file.
final class AtomicFileOutput: ArchiveSink {
    let destination: URL
    let temporaryURL: URL
    private(set) var position: UInt64 = 0

    private var descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var hasher = SHA256()
    private var isOpen = true
    private let synchronize: Bool

    /// Creates the temporary file next to `destination`.
    init(destination: URL, bufferSize: Int, synchronize: Bool) throws {
        self.destination = destination
        self.synchronize = synchronize
        self.temporaryURL = POSIXFile.temporarySibling(of: destination)
        self.descriptor = try POSIXFile.openFile(
            temporaryURL.path, flags: O_WRONLY | O_CREAT | O_EXCL, operation: "create a temporary file")
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        abort()
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else { throw ExportError.writerClosed("archive output") }
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if bytes.count <= buffer.count - buffered {
            (buffer.baseAddress! + buffered).copyMemory(from: source, byteCount: bytes.count)
            buffered += bytes.count
        } else {
            try flush()
            if bytes.count >= buffer.count {
                try emit(bytes)
            } else {
                buffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
                buffered = bytes.count
            }
        }
        position += UInt64(bytes.count)
    }

    func finish() throws -> (url: URL, size: UInt64, sha256: String) {
        guard isOpen else { throw ExportError.writerClosed("archive output") }
        do {
            try flush()
            if synchronize { try POSIXFile.syncFile(descriptor, path: temporaryURL.path) }
            POSIXFile.closeFile(descriptor)
            descriptor = -1
            try POSIXFile.renameFile(temporaryURL.path, to: destination.path)
            isOpen = false
            if synchronize { POSIXFile.syncDirectory(destination.deletingLastPathComponent().path) }
            return (destination, position, Hex.string(hasher.finalize()))
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        guard isOpen else { return }
        isOpen = false
        if descriptor >= 0 {
            POSIXFile.closeFile(descriptor)
            descriptor = -1
        }
        POSIXFile.removeFile(temporaryURL.path)
    }

    private func flush() throws {
        guard buffered > 0 else { return }
        try emit(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]))
        buffered = 0
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        try POSIXFile.writeAll(descriptor, bytes, path: temporaryURL.path)
    }
}
