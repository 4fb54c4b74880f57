import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An append-only byte store that keeps up to `threshold` bytes in memory and moves them to an
/// anonymous (already unlinked) scratch file beyond that, so a ZIP central directory of millions of
/// entries never has to live in memory.
final class SpillBuffer {
    private let directory: URL
    private let threshold: Int
    private var memory: [UInt8] = []
    private var descriptor: Int32 = -1
    private var scratchPath = ""
    private var spilled: UInt64 = 0

    /// Bytes appended so far.
    var count: UInt64 { spilled + UInt64(memory.count) }

    init(directory: URL, threshold: Int) {
        self.directory = directory
        self.threshold = threshold
        memory.reserveCapacity(min(threshold, 64 << 10))
    }

    deinit {
        if descriptor >= 0 { POSIXFile.closeFile(descriptor) }
    }

    func append(_ bytes: [UInt8]) throws {
        memory.append(contentsOf: bytes)
        if memory.count >= threshold { try spill() }
    }

    /// Writes everything appended, in order, to `sink`, reading spilled bytes back through `block`.
    func drain(into sink: any ArchiveSink, block: UnsafeMutableRawBufferPointer) throws {
        if descriptor >= 0 {
            var offset: UInt64 = 0
            while offset < spilled {
                let want = Int(min(UInt64(block.count), spilled - offset))
                let got = try POSIXFile.readFully(
                    descriptor, into: UnsafeMutableRawBufferPointer(rebasing: block[0..<want]), at: offset,
                    path: scratchPath)
                guard got == want else {
                    throw ExportError.fileSystem("read back", scratchPath, errno: EIO)
                }
                try sink.write(UnsafeRawBufferPointer(rebasing: block[0..<got]))
                offset += UInt64(got)
            }
        }
        try sink.write(memory)
    }

    private func spill() throws {
        if descriptor < 0 {
            let url = POSIXFile.temporarySibling(
                of: directory.appendingPathComponent("central-directory"), suffix: "scratch")
            scratchPath = url.path
            descriptor = try POSIXFile.openFile(
                scratchPath, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o600, operation: "create a scratch file")
            // Unlinked at once: the space is freed when the descriptor closes, even after a crash.
            POSIXFile.removeFile(scratchPath)
        }
        let end = spilled
        try memory.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var written = 0
            while written < bytes.count {
                let result = pwrite(descriptor, base + written, bytes.count - written, off_t(end) + off_t(written))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ExportError.fileSystem("write", scratchPath, errno: errno)
                }
                written += result
            }
        }
        spilled += UInt64(memory.count)
        memory.removeAll(keepingCapacity: true)
    }
}
