import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin, errno-checked wrappers over the POSIX calls the writers use.
enum POSIXFile {
    static func openFile(_ path: String, flags: Int32, mode: mode_t = 0o644, operation: String) throws -> Int32 {
        while true {
            let fd = path.withCString { open($0, flags | O_CLOEXEC, mode) }
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw ExportError.fileSystem(operation, path, errno: errno)
        }
    }

    /// Writes all of `buffer` or throws.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportError.fileSystem("write", path, errno: errno)
            }
            remaining -= written
            base += written
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns fewer only at the end of the file.
    static func readFully(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String
    ) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let got = pread(fd, base + total, buffer.count - total, off_t(offset) + off_t(total))
            if got < 0 {
                if errno == EINTR { continue }
                throw ExportError.fileSystem("read", path, errno: errno)
            }
            if got == 0 { break }
            total += got
        }
        return total
    }

    static func status(_ fd: Int32, path: String) throws -> (size: UInt64, modified: Date) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ExportError.fileSystem("inspect", path, errno: errno) }
        #if canImport(Darwin)
            let time = info.st_mtimespec
        #else
            let time = info.st_mtim
        #endif
        let modified = Date(timeIntervalSince1970: TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9)
        return (UInt64(max(0, info.st_size)), modified)
    }

    static func syncFile(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw ExportError.fileSystem("sync", path, errno: errno) }
    }

    /// `fsync` on a directory, so a rename inside it is durable. Best effort: some file systems refuse it.
    static func syncDirectory(_ path: String) {
        guard let fd = try? openFile(path, flags: O_RDONLY | O_DIRECTORY, operation: "open directory") else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    static func closeFile(_ fd: Int32) {
        _ = close(fd)
    }

    static func renameFile(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw ExportError.fileSystem("rename the finished file to", to, errno: errno)
        }
    }

    static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    static func adviseSequential(_ fd: Int32) {
        #if os(Linux)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
    }

    /// A hidden sibling name for a file being written: `.NAME.RANDOM.partial`.
    static func temporarySibling(of destination: URL, suffix: String = "partial") -> URL {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(random).\(suffix)")
    }
}
