import CZlib
import Crypto
import Foundation
import Logging
import PixCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A URL list as staged in the shared storage: what its `<sha256>.json` object says.
public struct StagedList: Codable, Sendable, Hashable {
    /// SHA-256 of the (uncompressed) list bytes: the list's id and its objects' name.
    public var sha256: String
    /// The list's format.
    public var format: URLListSource.Format
    /// The CSV/TSV header's column names (lowercased); empty for text, the keys of the first row for JSONL.
    public var columns: [String]
    /// Data rows.
    public var rows: Int
    /// Size of the stored (uncompressed) list in bytes.
    public var bytes: Int64
    /// Rows between two entries of the row-offset index.
    public var stride: Int

    /// Creates a description.
    public init(
        sha256: String, format: URLListSource.Format, columns: [String], rows: Int, bytes: Int64,
        stride: Int = 256
    ) {
        self.sha256 = sha256
        self.format = format
        self.columns = columns
        self.rows = rows
        self.bytes = bytes
        self.stride = stride
    }
}

extension URLListSource.Format: Codable {}

/// Staging copies a URL list into the shared storage as three immutable objects named by the SHA-256 of its
/// uncompressed bytes: `<sha>.list` (the rows, decompressed when the file was gzip), `<sha>.index` (the byte offset
/// of every 256th data row, little-endian 64-bit) and `<sha>.json` (``StagedList``, written last: a list whose
/// description exists is complete). The same content staged twice is stored once. Memory stays bounded: the file is
/// streamed, the index is written as it is built.
public enum URLListStaging {
    /// The object holding the rows.
    public static func dataKey(_ sha256: String) -> String { "\(sha256).list" }
    /// The row-offset index object.
    public static func indexKey(_ sha256: String) -> String { "\(sha256).index" }
    /// The description object.
    public static func descriptionKey(_ sha256: String) -> String { "\(sha256).json" }

    /// Whether `text` is a list id: 64 lowercase hexadecimal digits.
    public static func isListID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Copies the list file at `path` into `store` and describes it.
    /// - Parameters:
    ///   - path: a text, CSV, TSV or JSONL file, optionally gzip-compressed.
    ///   - format: the format, or nil to detect it from the name (without `.gz`) and the content.
    ///   - store: the shared storage.
    ///   - scratch: a local directory for the decompressed copy and the index while they are built.
    ///   - logger: receives warnings.
    /// - Returns: the staged list.
    /// - Throws: ``SourceError`` (`fileUnreadable`) for a missing, unreadable or empty list or one without a URL
    ///   column; nothing is stored then.
    public static func stage(
        path: String, format: URLListSource.Format? = nil, columns: URLListSource.Columns = URLListSource.Columns(),
        into store: any ListObjectStore,
        scratch: URL = FileManager.default.temporaryDirectory, logger: Logger
    ) throws(SourceError) -> StagedList {
        func failure(_ message: String) -> SourceError {
            SourceError(.fileUnreadable, source: "urls", message: "cannot stage the URL list '\(path)': \(message)")
        }
        let token = "pixcrawl-list-\(getpid())-\(UInt64.random(in: .min ... .max))"
        let plainPath = scratch.appendingPathComponent(token + ".plain").path
        let indexPath = scratch.appendingPathComponent(token + ".index").path
        let describedPath = scratch.appendingPathComponent(token + ".json").path
        defer {
            unlink(plainPath)
            unlink(indexPath)
            unlink(describedPath)
        }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw failure("\(String(cString: strerror(errno))); give an existing text, CSV, TSV or JSONL file")
        }
        var magic: [UInt8] = [0, 0]
        let magicCount = pread(input, &magic, 2, 0)
        close(input)
        let gzip = magicCount == 2 && magic == [0x1F, 0x8B]
        let contentPath: String
        let digest: String
        do {
            if gzip {
                digest = try inflate(path, to: plainPath)
                contentPath = plainPath
            } else {
                digest = try hash(path)
                contentPath = path
            }
        } catch {
            throw failure((error as? StagingError)?.message ?? "\(error)")
        }
        var name = path
        if name.lowercased().hasSuffix(".gz") { name.removeLast(3) }
        let source: URLListSource
        do {
            let prefix = (try? ListFile(path: contentPath).read(at: 0, count: 64 * 1024)) ?? []
            source = try URLListSource(
                path: contentPath, format: format ?? ListRecords.format(path: name, prefix: prefix),
                columns: columns, logger: logger)
        } catch {
            throw SourceError(
                .fileUnreadable, source: "urls",
                message: error.message.replacingOccurrences(
                    of: "'\(contentPath)'", with: "'\(path)'"))
        }
        let rows: Int
        do {
            rows = try writeIndex(source, to: indexPath)
        } catch {
            throw failure("\(error)")
        }
        guard rows > 0 else { throw failure("it has no rows with a URL") }
        var found = source.columns
        if source.format == .jsonl {
            found = (try? firstObjectKeys(source)) ?? []
            guard found.contains(where: columns.urlNames.contains) else {
                throw failure(
                    "its first row has no '\(columns.urlNames[0])' key (found: \(found.joined(separator: ", "))); "
                        + "name the URL key 'url' or give --url-col")
            }
        }
        var size = stat()
        stat(contentPath, &size)
        let list = StagedList(
            sha256: digest, format: source.format, columns: found, rows: rows, bytes: Int64(size.st_size))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(list).write(to: URL(fileURLWithPath: describedPath))
            if try store.size(descriptionKey(digest)) == nil {
                try store.put(contentsOf: contentPath, key: dataKey(digest))
                try store.put(contentsOf: indexPath, key: indexKey(digest))
                try store.put(contentsOf: describedPath, key: descriptionKey(digest))
            }
        } catch {
            throw failure("cannot store it: \(error)")
        }
        return list
    }

    /// Removes a staged list's objects (description first, so a half-removed list is no longer complete).
    public static func delete(_ sha256: String, from store: any ListObjectStore) throws {
        try store.delete(descriptionKey(sha256))
        try store.delete(indexKey(sha256))
        try store.delete(dataKey(sha256))
    }

    /// The description of the staged list `id`.
    /// - Throws: ``SourceError`` (`fileUnreadable`) when the list is not staged in `store`.
    public static func description(of id: String, in store: any ListObjectStore, source: String = "urls")
        throws(SourceError) -> StagedList
    {
        do {
            guard isListID(id), let size = try store.size(descriptionKey(id)), size < 1 << 20 else {
                throw ListObjectError("no staged list \(id) in the storage")
            }
            let bytes = try store.read(descriptionKey(id), at: 0, count: Int(size))
            return try JSONDecoder().decode(StagedList.self, from: Data(bytes))
        } catch {
            throw SourceError(
                .fileUnreadable, source: source,
                message: "cannot read the staged URL list \(id): \(error); is PIXCRAWL_STORAGE_URL the storage the "
                    + "job was submitted to?")
        }
    }

    /// The byte offset of data row `entry * stride`, read from the stored index.
    static func checkpoint(_ entry: Int, of list: StagedList, in store: any ListObjectStore, source: String)
        throws(SourceError) -> Int64
    {
        do {
            let bytes = try store.read(indexKey(list.sha256), at: Int64(entry) * 8, count: 8)
            guard bytes.count == 8 else { throw ListObjectError("the index ends before entry \(entry)") }
            return bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
        } catch {
            throw SourceError(
                .fileUnreadable, source: source, message: "cannot read the index of the URL list \(list.sha256): \(error)")
        }
    }

    // MARK: - Building

    private struct StagingError: Error {
        var message: String
    }

    /// Writes the offset of every `stride`-th data row to `indexPath`; returns the row count.
    private static func writeIndex(_ source: URLListSource, to indexPath: String) throws -> Int {
        let output = open(indexPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw StagingError(message: "cannot write \(indexPath)") }
        defer { close(output) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        func flush() throws {
            var written = 0
            while written < buffer.count {
                let wrote = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, buffer.count - written) }
                guard wrote > 0 else { throw StagingError(message: "cannot write \(indexPath)") }
                written += wrote
            }
            buffer.removeAll(keepingCapacity: true)
        }
        var rows = 0
        let file = try ListFile(path: source.path)
        try ListRecords.forEachDataRecord(file, format: source.format, from: 0) { _, start in
            if rows % URLListSource.RowIndex.stride == 0 {
                withUnsafeBytes(of: start.littleEndian) { buffer.append(contentsOf: $0) }
                if buffer.count >= 64 * 1024 { try flush() }
            }
            rows += 1
            return true
        }
        try flush()
        return rows
    }

    private static func firstObjectKeys(_ source: URLListSource) throws -> [String] {
        var keys: [String] = []
        let file = try ListFile(path: source.path)
        try ListRecords.forEachDataRecord(file, format: source.format, from: 0) { record, _ in
            if let object = try? JSONDecoder().decode(JSONObjectFields.self, from: Data(record)) {
                keys = object.fields.keys.map { $0.lowercased() }.sorted()
            }
            return false
        }
        return keys
    }

    /// SHA-256 of a file, streamed.
    private static func hash(_ path: String) throws -> String {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StagingError(message: String(cString: strerror(errno))) }
        defer { close(input) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw StagingError(message: String(cString: strerror(errno))) }
            if got == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<got])) }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Decompresses a gzip file (concatenated members too) into `target`; returns the SHA-256 of the output.
    private static func inflate(_ path: String, to target: String) throws -> String {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StagingError(message: String(cString: strerror(errno))) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw StagingError(message: "cannot write \(target)") }
        defer { close(output) }
        var stream = z_stream()
        // windowBits 15 + 32: zlib or gzip header, detected.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw StagingError(message: "cannot start the gzip decoder")
        }
        defer { inflateEnd(&stream) }
        var hasher = SHA256()
        var inBuffer = [UInt8](repeating: 0, count: 1 << 18)
        var outBuffer = [UInt8](repeating: 0, count: 1 << 20)
        var finished = false
        while true {
            let got = inBuffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw StagingError(message: String(cString: strerror(errno))) }
            if got == 0 { break }
            var status: Int32 = Z_OK
            try inBuffer.withUnsafeMutableBufferPointer { inBytes in
                stream.next_in = inBytes.baseAddress
                stream.avail_in = UInt32(got)
                while stream.avail_in > 0 {
                    if finished {
                        // Another gzip member follows.
                        guard inflateReset(&stream) == Z_OK else {
                            throw StagingError(message: "cannot restart the gzip decoder")
                        }
                        finished = false
                    }
                    let produced = try outBuffer.withUnsafeMutableBufferPointer { outBytes in
                        stream.next_out = outBytes.baseAddress
                        stream.avail_out = UInt32(outBytes.count)
                        status = CZlib.inflate(&stream, Z_NO_FLUSH)
                        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                            throw StagingError(message: "it is not valid gzip (zlib status \(status))")
                        }
                        return outBytes.count - Int(stream.avail_out)
                    }
                    if produced > 0 {
                        try outBuffer.withUnsafeBytes { raw in
                            let part = UnsafeRawBufferPointer(rebasing: raw[..<produced])
                            hasher.update(bufferPointer: part)
                            var written = 0
                            while written < produced {
                                let wrote = write(output, part.baseAddress! + written, produced - written)
                                guard wrote > 0 else { throw StagingError(message: "cannot write \(target)") }
                                written += wrote
                            }
                        }
                    }
                    if status == Z_STREAM_END { finished = true }
                    if status == Z_BUF_ERROR && produced == 0 { break }
                }
            }
        }
        guard finished else { throw StagingError(message: "the gzip stream is truncated") }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
