/// Why a ``BlobStore`` operation failed.
public struct BlobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; compare with the static members (`error.code == .notFound`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidKey, notFound, digestMismatch, io
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The SHA-256 is not 64 lowercase hex digits, or a path is not a blob path.
        public static let invalidKey = Code(.invalidKey)
        /// No blob is stored under the key.
        public static let notFound = Code(.notFound)
        /// The content's SHA-256 differs from the key it was to be stored under.
        public static let digestMismatch = Code(.digestMismatch)
        /// The file system refused an operation (full disk, permissions, …).
        public static let io = Code(.io)

        public var description: String {
            switch base {
            case .invalidKey: "invalid key"
            case .notFound: "not found"
            case .digestMismatch: "digest mismatch"
            case .io: "I/O error"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong and where, e.g. `cannot create images/ab/cd: Permission denied (errno 13)`.
    public let message: String

    /// Creates an error of kind `code`.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "blob store \(code): \(message)" }
}
