import Crypto
import Dispatch
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
///
/// Bytes are staged in a ring of buffers. When one is full it is written to the file on the calling thread
/// while a background queue hashes it, so SHA-256 (the costliest step per byte) overlaps with reading and
/// writing instead of adding to them. A buffer is reused only after its hash is done.
final class AtomicFileOutput: ArchiveSink {
    let destination: URL
    let temporaryURL: URL
    private(set) var position: UInt64 = 0

    private var descriptor: Int32
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let available: [DispatchSemaphore]
    private var current = 0
    private var filled = 0
    private let hasher = BackgroundSHA256()
    private var isOpen = true
    private let synchronize: Bool

    /// Creates the temporary file next to `destination`.
    /// - Parameters:
    ///   - bufferSize: Size of each of the three staging buffers.
    init(destination: URL, bufferSize: Int, synchronize: Bool) throws {
        self.destination = destination
        self.synchronize = synchronize
        self.temporaryURL = POSIXFile.temporarySibling(of: destination)
        self.descriptor = try POSIXFile.openFile(
            temporaryURL.path, flags: O_WRONLY | O_CREAT | O_EXCL, operation: "create a temporary file")
        self.buffers = (0..<3).map { _ in .allocate(byteCount: bufferSize, alignment: 64) }
        self.available = buffers.map { _ in DispatchSemaphore(value: 1) }
        available[current].wait()
    }

    deinit {
        abort()
        hasher.drain()  // no hash may still read a buffer about to be freed
        // The buffer being filled was taken with wait(); libdispatch refuses to free a semaphore below its
        // initial value.
        available[current].signal()
        for buffer in buffers { buffer.deallocate() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else { throw ExportError.writerClosed("archive output") }
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let buffer = buffers[current]
            let count = min(remaining, buffer.count - filled)
            (buffer.baseAddress! + filled).copyMemory(from: source, byteCount: count)
            filled += count
            source += count
            remaining -= count
            if filled == buffer.count { try submit() }
        }
        position += UInt64(bytes.count)
    }

    func finish() throws -> (url: URL, size: UInt64, sha256: String) {
        guard isOpen else { throw ExportError.writerClosed("archive output") }
        do {
            if filled > 0 { try submit() }
            let sha256 = hasher.finalize()
            if synchronize { try POSIXFile.syncFile(descriptor, path: temporaryURL.path) }
            POSIXFile.closeFile(descriptor)
            descriptor = -1
            try POSIXFile.renameFile(temporaryURL.path, to: destination.path)
            isOpen = false
            if synchronize { POSIXFile.syncDirectory(destination.deletingLastPathComponent().path) }
            return (destination, position, sha256)
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

    /// Hands the current buffer to the hasher, writes it, and moves to the next free buffer.
    private func submit() throws {
        let chunk = UnsafeRawBufferPointer(rebasing: buffers[current][0..<filled])
        hasher.update(chunk, then: available[current])
        try POSIXFile.writeAll(descriptor, chunk, path: temporaryURL.path)
        current = (current + 1) % buffers.count
        filled = 0
        available[current].wait()
    }
}

/// SHA-256 over buffers handed over in order and hashed on a serial background queue.
// @unchecked Sendable: `state` is only touched on `queue`, and callers keep each buffer alive and unchanged
// until its semaphore is signalled.
private final class BackgroundSHA256: @unchecked Sendable {
    private let queue = DispatchQueue(label: "pixcrawl.export.sha256")
    private var state = SHA256()

    func update(_ bytes: UnsafeRawBufferPointer, then done: DispatchSemaphore) {
        let chunk = UncheckedBuffer(bytes: bytes)
        queue.async {
            self.state.update(bufferPointer: chunk.bytes)
            done.signal()
        }
    }

    /// Waits for every pending update and returns the digest as hex.
    func finalize() -> String {
        queue.sync { Hex.string(state.finalize()) }
    }

    /// Waits for every pending update.
    func drain() {
        queue.sync {}
    }
}

/// A buffer pointer passed to the hashing queue.
// @unchecked Sendable: the owner does not write or free the memory until the queue signals it is done.
private struct UncheckedBuffer: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
}
