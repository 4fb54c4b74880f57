#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error raised while writing an export: an archive, a shard, a manifest or a layout name.
///
/// Compare ``code`` with the static members of ``ExportError/Code`` to decide what to do;
/// ``description`` says what went wrong and what to change.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    /// The kind of an ``ExportError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidEntryPath
            case sizeMismatch
            case sourceChanged
            case fileSystem
            case writerClosed
            case invalidSampleKey
            case invalidOption
            case unknownKeyword
            case compression
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An archive entry path is empty, absolute, contains `..`, a backslash or a control character.
        public static let invalidEntryPath = Code(.invalidEntryPath)
        /// The bytes of an entry differ in number from the size the caller declared.
        public static let sizeMismatch = Code(.sizeMismatch)
        /// A file changed while it was being copied into the archive.
        public static let sourceChanged = Code(.sourceChanged)
        /// A file-system call failed (open, read, write, rename, fsync).
        public static let fileSystem = Code(.fileSystem)
        /// The writer was used after it finished, was cancelled or failed.
        public static let writerClosed = Code(.writerClosed)
        /// A WebDataset sample key is malformed, duplicated or out of order.
        public static let invalidSampleKey = Code(.invalidSampleKey)
        /// An option is out of range (ratios, shard size, prefix, extension).
        public static let invalidOption = Code(.invalidOption)
        /// A keyword was not among those a layout was built for.
        public static let unknownKeyword = Code(.unknownKeyword)
        /// zlib reported an error while compressing.
        public static let compression = Code(.compression)

        /// The code's name, for logs.
        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// What went wrong, in words a person can act on.
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    static func invalidEntryPath(_ path: String, _ reason: String) -> ExportError {
        ExportError(
            .invalidEntryPath,
            "archive entry path \(quoted(path)) is not allowed: \(reason); use a relative path of '/'-separated names")
    }

    static func sizeMismatch(_ path: String, declared: UInt64, actual: UInt64) -> ExportError {
        ExportError(
            .sizeMismatch,
            "entry \(quoted(path)) was declared as \(declared) bytes but its source has \(actual) bytes; "
                + "pass the size of the stored blob (or nil to take it from the file)")
    }

    static func sourceChanged(_ path: String, _ detail: String) -> ExportError {
        ExportError(
            .sourceChanged,
            "the source of entry \(quoted(path)) changed while it was being archived (\(detail)); "
                + "make sure no process rewrites stored blobs during an export")
    }

    static func fileSystem(_ operation: String, _ path: String, errno code: Int32) -> ExportError {
        let reason = String(cString: strerror(code))
        return ExportError(.fileSystem, "could not \(operation) \(quoted(path)): \(reason) (errno \(code))")
    }

    static func writerClosed(_ what: String) -> ExportError {
        ExportError(
            .writerClosed,
            "the \(what) is closed (it finished, was cancelled or failed earlier); start a new writer")
    }

    static func invalidSampleKey(_ key: String, _ reason: String) -> ExportError {
        ExportError(
            .invalidSampleKey,
            "WebDataset sample key \(quoted(key)) is not allowed: \(reason); build keys with WebDatasetKey")
    }

    static func invalidOption(_ message: String) -> ExportError {
        ExportError(.invalidOption, message)
    }

    static func unknownKeyword(_ keyword: String) -> ExportError {
        ExportError(
            .unknownKeyword,
            "keyword \(quoted(keyword)) was not given when the folder layout was built; "
                + "build ImageFolderNaming with every keyword of the export")
    }

    static func compression(_ operation: String, status: Int32) -> ExportError {
        ExportError(.compression, "zlib \(operation) failed with status \(status); the archive was discarded")
    }

    private static func quoted(_ text: String) -> String {
        let shown = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return "'" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined()
            + "'"
    }
}
