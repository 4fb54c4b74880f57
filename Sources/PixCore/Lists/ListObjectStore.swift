/// Where staged URL lists live: immutable objects under `lists/` in the storage every worker shares (the
/// local storage directory or the S3 bucket), read back with ranged reads so a worker fetches only its rows.
///
/// Keys are relative names such as `<sha256>.list`; implementations place them under their `lists/` prefix.
/// Implementations are synchronous and may block on I/O.
public protocol ListObjectStore: Sendable {
    /// Stores the content of the local file `path` under `key` unless an object with that key exists already.
    /// - Returns: false when the object existed and nothing was written.
    @discardableResult
    func put(contentsOf path: String, key: String) throws -> Bool

    /// Up to `count` bytes of the object `key` from `offset`; fewer only at its end.
    func read(_ key: String, at offset: Int64, count: Int) throws -> [UInt8]

    /// The object's size in bytes, or nil when there is none.
    func size(_ key: String) throws -> Int64?

    /// Removes the object `key`.
    /// - Returns: false when there was none.
    @discardableResult
    func delete(_ key: String) throws -> Bool
}

/// A staged list object that could not be stored or read.
public struct ListObjectError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, with the key.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
