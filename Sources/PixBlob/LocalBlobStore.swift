import CPixSystem
import Crypto
import Foundation
import PixCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A ``BlobStore`` on the local file system: `ROOT/images/ab/cd/<sha256>.<ext>`.
///
/// Every write goes to a temporary file (`.tmp-…`) in the blob's final directory and is renamed into place. A
/// durable ``put(_:for:)`` flushes the file with `fsync` before the rename and its directories (up to the root)
/// after it: after a crash a blob is either complete under its final name or absent (a stale temporary file may
/// remain; see ``sweepTemporaryFiles(olderThan:)``). ``putDeferred(_:for:)`` flushes nothing:
/// ``flushDeferred()`` flushes the whole file system at once (`syncfs`). A crash before that may leave a blob
/// damaged under its final name, so storing an existing key compares the stored content with the new one first:
/// equal, nothing is written (a durable `put` flushes the file and its directories); different, the blob is
/// written again.
///
/// The API is synchronous and blocks on disk I/O; call it from a thread that may block.
public struct LocalBlobStore: BlobStore {
    /// The storage root; blobs live under `root/images`.
    public let root: URL
    /// When true, every `put` hashes the content and refuses one that does not match its key.
    public let verifiesDigest: Bool

    private var rootPath: String { root.path }

    /// Creates a store rooted at `root` (created on first write).
    /// - Parameters:
    ///   - root: the storage directory, e.g. `storage/`.
    ///   - verifiesDigest: hash every stored content and refuse mismatched keys (costs one SHA-256 pass).
    public init(root: URL, verifiesDigest: Bool = false) {
        self.root = root.standardizedFileURL.absoluteURL
        self.verifiesDigest = verifiesDigest
    }

    /// The `images` folder, held open from the first deferred write on (and shared by copies of the store):
    /// `syncfs` reports the file system's writeback errors since the descriptor was opened, so it is opened before
    /// the first file it must vouch for is written.
    private let flushFolder = FlushFolder()

    /// The file a blob stored under `key` occupies.
    public func fileURL(for key: BlobKey) -> URL {
        URL(fileURLWithPath: filePath(key))
    }

    public func storageURL(for key: BlobKey) -> String {
        fileURL(for: key).absoluteString
    }

    public func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob {
        try put(bytes, for: key, flushed: true)
    }

    /// Writes the blob and renames it into place without `fsync`; ``flushDeferred()`` makes it durable. A blob
    /// already stored (perhaps by another writer that has not flushed it yet) is flushed by that call too.
    public func putDeferred(_ bytes: UnsafeRawBufferPointer, for key: BlobKey) throws -> StoredBlob {
        try flushFolder.openIfNeeded("\(rootPath)/images")
        return try put(bytes, for: key, flushed: false)
    }

    /// Flushes the file system holding the store (`syncfs`): every blob written so far, with its directories,
    /// written back by the kernel's flusher in one pass instead of one `fsync` per file and directory. It also
    /// waits for whatever else is being written to that file system, so the crawl's storage is best kept off a
    /// disk that takes large unrelated writes.
    public func flushDeferred() throws {
        try flushFolder.sync(rootPath)
    }

    private func put(_ bytes: UnsafeRawBufferPointer, for key: BlobKey, flushed: Bool) throws -> StoredBlob {
        if verifiesDigest {
            var hasher = SHA256()
            hasher.update(bufferPointer: bytes)
            try checkDigest(Self.hex(hasher.finalize()), for: key)
        }
        if try holds(bytes, under: key, flushing: flushed) { return stored(key, size: bytes.count, created: false) }
        try writeAtomically(key, flushed: flushed) { descriptor in try Self.writeAll(descriptor, bytes, key: key) }
        return stored(key, size: bytes.count, created: true)
    }

    public func put(contentsOf file: URL, for key: BlobKey, consuming: Bool) throws -> StoredBlob {
        let source = file.path
        var sourceInfo = stat()
        guard stat(source, &sourceInfo) == 0 else { throw Self.ioError(errno, "cannot stat \(source)") }
        if let size = try existingSize(key), size == Int(sourceInfo.st_size) {
            // Same size: taken as the same content (one left by putDeferred is flushed now).
            try flushExisting(key)
            if consuming { unlink(source) }
            return stored(key, size: size, created: false)
        }
        if consuming && !verifiesDigest, let size = try moveIntoPlace(source, key: key) {
            return stored(key, size: size, created: true)
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Self.ioError(errno, "cannot open \(source)") }
        defer { close(input) }
        var size = 0
        try writeAtomically(key) { output in
            var hasher = SHA256()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let count = read(input, buffer.baseAddress, buffer.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Self.ioError(errno, "cannot read \(source)")
                }
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if verifiesDigest { hasher.update(bufferPointer: chunk) }
                try Self.writeAll(output, chunk, key: key)
                size += count
            }
            if verifiesDigest { try checkDigest(Self.hex(hasher.finalize()), for: key) }
        }
        if consuming { unlink(source) }
        return stored(key, size: size, created: true)
    }

    public func get(_ key: BlobKey) throws -> [UInt8] {
        let descriptor = open(filePath(key), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw BlobStoreError(code: .notFound, message: "no blob \(key.path)") }
            throw Self.ioError(errno, "cannot open \(key.path)")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.ioError(errno, "cannot stat \(key.path)") }
        let size = Int(info.st_size)
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while initialized < size {
                let count = read(descriptor, buffer.baseAddress! + initialized, size - initialized)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Self.ioError(errno, "cannot read \(key.path)")
                }
                if count == 0 { break }
                initialized += count
            }
        }
    }

    public func exists(_ key: BlobKey) throws -> Bool {
        try existingSize(key) != nil
    }

    @discardableResult
    public func delete(_ key: BlobKey) throws -> Bool {
        if unlink(filePath(key)) == 0 { return true }
        if errno == ENOENT { return false }
        throw Self.ioError(errno, "cannot delete \(key.path)")
    }

    public func forEachKey(_ body: (BlobKey) -> Void) throws {
        try forEachEntry { relativePath, name in
            if !name.hasPrefix("."), let key = try? BlobKey(path: relativePath) { body(key) }
        }
    }

    public func forEachBlob(_ body: (BlobListing) throws -> Void) throws {
        try forEachEntry { relativePath, name in
            guard !name.hasPrefix("."), let key = try? BlobKey(path: relativePath) else { return }
            var info = stat()
            guard stat("\(rootPath)/\(relativePath)", &info) == 0 else {
                if errno == ENOENT { return }  // deleted while listing
                throw Self.ioError(errno, "cannot stat \(relativePath)")
            }
            #if canImport(Darwin)
                let time = info.st_mtimespec
            #else
                let time = info.st_mtim
            #endif
            let modified = Date(timeIntervalSince1970: TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9)
            try body(BlobListing(key: key, size: Int64(info.st_size), modified: modified))
        }
    }

    /// Re-hashes a stored blob.
    /// - Returns: true when the content's SHA-256 matches its key.
    /// - Throws: ``BlobStoreError/Code/notFound`` when there is no such blob.
    public func verify(_ key: BlobKey) throws -> Bool {
        let content = try get(key)
        return Self.hex(SHA256.hash(data: content)) == key.sha256
    }

    /// Removes temporary files left behind by writes that never finished (a crash mid-`put`).
    /// - Parameter age: only files last modified longer ago than this many seconds are removed, so
    ///   writes in progress are left alone.
    /// - Returns: how many files were removed.
    @discardableResult
    public func sweepTemporaryFiles(olderThan age: TimeInterval) throws -> Int {
        let cutoff = Date().timeIntervalSince1970 - age
        var removed = 0
        try forEachEntry { relativePath, name in
            guard name.hasPrefix(Self.temporaryPrefix) else { return }
            let path = "\(rootPath)/\(relativePath)"
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            guard let modified = attributes?[.modificationDate] as? Date, modified.timeIntervalSince1970 < cutoff else {
                return
            }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - Internals

    private static let temporaryPrefix = ".tmp-"

    private func filePath(_ key: BlobKey) -> String { "\(rootPath)/\(key.path)" }

    private func stored(_ key: BlobKey, size: Int, created: Bool) -> StoredBlob {
        StoredBlob(key: key, storageURL: storageURL(for: key), byteCount: size, created: created)
    }

    private func checkDigest(_ actual: String, for key: BlobKey) throws {
        guard actual == key.sha256 else {
            throw BlobStoreError(code: .digestMismatch, message: "content hashes to \(actual), not \(key.sha256)")
        }
    }

    /// The size of a blob already stored under `key`, or `nil`. A dedup hit refreshes the file's modification
    /// time first: an old orphan about to be referenced again is young again, so `fsck --repair` (which only
    /// deletes orphans older than its grace period) cannot remove it before the row that needs it commits.
    private func existingSize(_ key: BlobKey) throws -> Int? {
        let path = filePath(key)
        if utimensat(AT_FDCWD, path, nil, 0) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.ioError(errno, "cannot refresh \(key.path)")
        }
        var info = stat()
        if stat(path, &info) == 0 { return Int(info.st_size) }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw Self.ioError(errno, "cannot stat \(key.path)")
    }

    /// Whether the blob under `key` holds exactly `bytes` (read back and compared, only on a dedup hit): a copy
    /// stored by ``putDeferred(_:for:)`` may be damaged by a crash, or not yet on disk. With `flushing`, a
    /// match is flushed with its directories before it counts as stored.
    private func holds(_ bytes: UnsafeRawBufferPointer, under key: BlobKey, flushing: Bool) throws -> Bool {
        guard let size = try existingSize(key), size == bytes.count else { return false }
        let descriptor = open(filePath(key), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return false }
            throw Self.ioError(errno, "cannot open \(key.path)")
        }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < bytes.count {
            let count = read(descriptor, buffer.baseAddress, min(buffer.count, bytes.count - offset))
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.ioError(errno, "cannot read \(key.path)")
            }
            if count == 0 || memcmp(buffer.baseAddress!, bytes.baseAddress! + offset, count) != 0 { return false }
            offset += count
        }
        if flushing {
            guard fsync(descriptor) == 0 else { throw Self.ioError(errno, "cannot flush \(key.path)") }
            try syncDirectories(of: key)
        }
        return true
    }

    /// Flushes a stored blob and its directories (a dedup hit of a durable write).
    private func flushExisting(_ key: BlobKey) throws {
        let descriptor = open(filePath(key), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.ioError(errno, "cannot open \(key.path)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Self.ioError(errno, "cannot flush \(key.path)") }
        try syncDirectories(of: key)
    }

    /// Flushes the blob's directory and each one above it up to the root: a write that did not wait for the disk
    /// may have created any of them, so a durable write cannot count on their entries being on disk.
    private func syncDirectories(of key: BlobKey) throws {
        var path = "\(rootPath)/\(key.directory)"
        while true {
            try Self.syncDirectory(path)
            guard path.count > rootPath.count, let slash = path.lastIndex(of: "/") else { return }
            path = String(path[..<slash])
        }
    }

    /// Creates `root/images/ab/cd` as needed; a durable write flushes them afterwards (``syncDirectories(of:)``).
    private func makeDirectory(for key: BlobKey) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        } catch {
            throw BlobStoreError(code: .io, message: "cannot create the storage root \(rootPath): \(error)")
        }
        var path = rootPath
        for component in key.directory.split(separator: "/") {
            path += "/\(component)"
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw Self.ioError(errno, "cannot create \(path)")
            }
        }
        return path
    }

    /// Writes through `body` into a temporary file next to the final one, flushes it (unless `flushed` is false),
    /// renames it into place and flushes its directories (likewise). The temporary file is removed on any failure.
    private func writeAtomically(_ key: BlobKey, flushed: Bool = true, _ body: (Int32) throws -> Void) throws {
        let directory = try makeDirectory(for: key)
        let temporary = "\(directory)/\(Self.temporaryPrefix)\(key.sha256.prefix(16))-\(UInt64.random(in: .min ... .max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.ioError(errno, "cannot create a temporary file in \(key.directory)") }
        do {
            try body(descriptor)
            guard !flushed || fsync(descriptor) == 0 else { throw Self.ioError(errno, "cannot flush \(key.path)") }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, filePath(key)) == 0 else {
            let code = errno
            unlink(temporary)
            throw Self.ioError(code, "cannot rename into \(key.path)")
        }
        if flushed { try syncDirectories(of: key) }
    }

    /// Renames a consumed file into place when it is on the same file system.
    /// - Returns: its size, or nil when it must be copied instead (another file system).
    private func moveIntoPlace(_ source: String, key: BlobKey) throws -> Int? {
        _ = try makeDirectory(for: key)
        let descriptor = open(source, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.ioError(errno, "cannot open \(source)") }
        var info = stat()
        let flushed = fsync(descriptor) == 0 && fchmod(descriptor, 0o644) == 0 && fstat(descriptor, &info) == 0
        let code = errno
        close(descriptor)
        guard flushed else { throw Self.ioError(code, "cannot flush \(source)") }
        guard rename(source, filePath(key)) == 0 else {
            if errno == EXDEV { return nil }
            throw Self.ioError(errno, "cannot rename \(source) into \(key.path)")
        }
        try syncDirectories(of: key)
        return Int(info.st_size)
    }

    /// Calls `body` with every entry two directory levels below `root/images` (relative path, name).
    private func forEachEntry(_ body: (String, String) throws -> Void) throws {
        let files = FileManager.default
        let images = "\(rootPath)/images"
        guard files.fileExists(atPath: images) else { return }
        func list(_ path: String) throws -> [String] {
            do {
                return try files.contentsOfDirectory(atPath: path)
            } catch {
                throw BlobStoreError(code: .io, message: "cannot list \(path): \(error)")
            }
        }
        for first in try list(images) where Self.isFanOutName(first) {
            for second in try list("\(images)/\(first)") where Self.isFanOutName(second) {
                for name in try list("\(images)/\(first)/\(second)") {
                    try body("images/\(first)/\(second)/\(name)", name)
                }
            }
        }
    }

    private static func isFanOutName(_ name: String) -> Bool {
        name.utf8.count == 2 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, key: BlobKey) throws {
        var offset = 0
        while offset < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError(errno, "cannot write \(key.path)")
            }
            offset += count
        }
    }

    private static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError(errno, "cannot open directory \(path)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ioError(errno, "cannot flush directory \(path)") }
    }

    private static func ioError(_ code: Int32, _ what: String) -> BlobStoreError {
        BlobStoreError(code: .io, message: "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }
}

/// An open descriptor of a store's `images` folder, for `syncfs`.
private final class FlushFolder: Sendable {
    private let descriptor = Mutex<Int32>(-1)

    /// Opens the folder (creating it) unless it is open already.
    func openIfNeeded(_ path: String) throws {
        try descriptor.withLock { descriptor in
            guard descriptor < 0 else { return }
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw BlobStoreError(code: .io, message: "cannot create \(path): \(error)")
            }
            let opened = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard opened >= 0 else {
                throw BlobStoreError(code: .io, message: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            descriptor = opened
        }
    }

    /// `syncfs` on the folder; nothing to do before the first deferred write.
    func sync(_ root: String) throws {
        try descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            guard cpix_syncfs(descriptor) == 0 else {
                throw BlobStoreError(
                    code: .io, message: "cannot flush the storage \(root): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit {
        let open = descriptor.withLock { $0 }
        if open >= 0 { close(open) }
    }
}
