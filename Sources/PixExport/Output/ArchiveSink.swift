import Foundation

/// Where a writer's bytes go: a file being written atomically, possibly behind a compressor.
protocol ArchiveSink: AnyObject {
    /// Bytes accepted so far (before any compression): the offset of the next byte in the archive stream.
    var position: UInt64 { get }
    /// Accepts bytes, in order.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the stream and publishes the file.
    /// - Returns: The published file's size and SHA-256 (hex).
    func finish() throws -> (url: URL, size: UInt64, sha256: String)
    /// Abandons the stream and removes every temporary file. Idempotent.
    func abort()
}

extension ArchiveSink {
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}
