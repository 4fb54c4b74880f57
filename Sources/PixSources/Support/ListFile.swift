import PixCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A read-only file read in blocks from any offset, so a large URL list is streamed, never loaded whole: a local
/// file (`pread`) or a staged list object (ranged reads from the shared storage).
final class ListFile {
    /// Identity of the file's contents as far as `stat` tells: a change means the row index must be rebuilt.
    struct Stamp: Hashable, Sendable {
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
        var inode: UInt64
    }

    let path: String
    private let fd: Int32
    private let object: (store: any ListObjectStore, key: String)?

    /// Opens `path` for reading.
    /// - Throws: the `strerror` text when the file cannot be opened or is a directory.
    init(path: String) throws(ListFileError) {
        self.path = path
        object = nil
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ListFileError(reason: String(cString: strerror(errno))) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ListFileError(reason: "it is a directory")
        }
    }

    /// Reads the staged list object `key` of `store` (immutable: its stamp never changes).
    init(object key: String, in store: any ListObjectStore) {
        path = "list:\(key)"
        fd = -1
        object = (store, key)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Size and modification time now.
    func stamp() -> Stamp {
        if object != nil { return Stamp(size: 0, modifiedSeconds: 0, modifiedNanoseconds: 0, inode: 0) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            return Stamp(size: -1, modifiedSeconds: 0, modifiedNanoseconds: 0, inode: 0)
        }
        return Stamp(
            size: Int64(info.st_size), modifiedSeconds: Int(info.st_mtim.tv_sec),
            modifiedNanoseconds: Int(info.st_mtim.tv_nsec), inode: UInt64(info.st_ino))
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: Int64, count: Int) throws(ListFileError) -> [UInt8] {
        if let object {
            do {
                return try object.store.read(object.key, at: offset, count: count)
            } catch {
                throw ListFileError(reason: "\(error)")
            }
        }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw ListFileError(reason: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            filled += got
        }
        buffer.removeSubrange(filled...)
        return buffer
    }

    /// Calls `body` with each line from `offset` on (without its `\n` or `\r\n`) and the offset where the line
    /// starts, until `body` returns `false` or the file ends.
    func forEachLine(
        from offset: Int64, blockSize: Int = ListFile.blockSize,
        _ body: (_ line: ArraySlice<UInt8>, _ start: Int64) throws -> Bool
    ) throws {
        var position = offset
        var carry: [UInt8] = []
        var carryStart: Int64 = 0
        while true {
            let block = try read(at: position, count: blockSize)
            let blockStart = position
            position += Int64(block.count)
            if block.isEmpty {
                if !carry.isEmpty { _ = try body(Self.trimCR(carry[...]), carryStart) }
                return
            }
            var lineStart = 0
            let keepGoing = try block.withUnsafeBufferPointer { bytes -> Bool in
                while lineStart < bytes.count {
                    guard let found = memchr(bytes.baseAddress! + lineStart, 0x0A, bytes.count - lineStart) else {
                        break
                    }
                    let newline = bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    let proceed: Bool
                    if carry.isEmpty {
                        proceed = try body(Self.trimCR(block[lineStart..<newline]), blockStart + Int64(lineStart))
                    } else {
                        carry += block[lineStart..<newline]
                        proceed = try body(Self.trimCR(carry[...]), carryStart)
                        carry.removeAll(keepingCapacity: true)
                    }
                    lineStart = newline + 1
                    if !proceed { return false }
                }
                return true
            }
            guard keepGoing else { return }
            if lineStart < block.count {
                if carry.isEmpty { carryStart = blockStart + Int64(lineStart) }
                carry += block[lineStart...]
                guard carry.count <= Self.maxLineBytes else {
                    throw ListFileError(reason: "a line starting at byte \(carryStart) is longer than 8 MiB")
                }
            }
        }
    }

    /// How many bytes a line scan reads at a time.
    static let blockSize = 256 * 1024

    /// The longest line read; anything longer is not a list row.
    static let maxLineBytes = 8 << 20

    private static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }
}

/// Why a list file could not be read (the OS's reason).
struct ListFileError: Error {
    var reason: String
}
