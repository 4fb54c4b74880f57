import Foundation
import PixCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Staged URL lists in a local storage directory: `ROOT/lists/<key>`, written through a temporary file, flushed
/// and renamed into place, read with `pread`.
public struct LocalListObjectStore: ListObjectStore {
    /// The storage root; lists live under `root/lists`.
    public let root: URL

    /// Creates a store rooted at `root` (the directory is created on first write).
    public init(root: URL) {
        self.root = root.standardizedFileURL.absoluteURL
    }

    /// The file the object `key` occupies.
    public func path(_ key: String) -> String {
        root.appendingPathComponent("lists", isDirectory: true).appendingPathComponent(key).path
    }

    @discardableResult
    public func put(contentsOf source: String, key: String) throws -> Bool {
        let target = path(key)
        if access(target, F_OK) == 0 { return false }
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(directory)/.tmp-\(key)-\(UInt64.random(in: .min ... .max))"
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ListObjectError("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw ListObjectError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        var done = false
        defer {
            if !done {
                close(output)
                unlink(temporary)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw ListObjectError("cannot read \(source): \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            var written = 0
            while written < got {
                let wrote = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, got - written) }
                if wrote < 0 && errno == EINTR { continue }
                guard wrote > 0 else {
                    throw ListObjectError("cannot write \(temporary): \(String(cString: strerror(errno)))")
                }
                written += wrote
            }
        }
        guard fsync(output) == 0 else { throw ListObjectError("cannot flush \(temporary)") }
        close(output)
        done = true
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw ListObjectError("cannot rename \(temporary) to \(target): \(String(cString: strerror(errno)))")
        }
        return true
    }

    public func read(_ key: String, at offset: Int64, count: Int) throws -> [UInt8] {
        let file = path(key)
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ListObjectError("cannot read the staged list object \(key): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                throw ListObjectError("cannot read the staged list object \(key): \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
        }
        buffer.removeSubrange(filled...)
        return buffer
    }

    public func size(_ key: String) throws -> Int64? {
        var info = stat()
        guard stat(path(key), &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    @discardableResult
    public func delete(_ key: String) throws -> Bool {
        unlink(path(key)) == 0
    }
}
