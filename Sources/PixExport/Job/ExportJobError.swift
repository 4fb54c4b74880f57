/// An error of the export job, its download links or its garbage collection.
///
/// Compare ``code`` with the static members of ``ExportJobError/Code``; ``description`` says what went wrong
/// and what to do. Archive-level failures (a file that cannot be written) are ``ExportError``s.
public struct ExportJobError: Error, Sendable, CustomStringConvertible {
    /// The kind of an ``ExportJobError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidOptions
            case notFound
            case notClaimable
            case leaseLost
            case blobUnavailable
            case unknownToken
            case tokenExpired
            case exportUnavailable
            case archiveMissing
            case integrityMismatch
            case archiveStorage
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An export option is out of range or the stored options cannot be read.
        public static let invalidOptions = Code(.invalidOptions)
        /// The export or its crawl job does not exist.
        public static let notFound = Code(.notFound)
        /// The export is not pending (another process runs it, or it finished).
        public static let notClaimable = Code(.notClaimable)
        /// Another process took the export over while this one was writing it.
        public static let leaseLost = Code(.leaseLost)
        /// An image's blob is missing or unreadable.
        public static let blobUnavailable = Code(.blobUnavailable)
        /// No download record has this token.
        public static let unknownToken = Code(.unknownToken)
        /// The token's download record has expired (HTTP 410 Gone).
        public static let tokenExpired = Code(.tokenExpired)
        /// The export is not completed, or its archive was swept.
        public static let exportUnavailable = Code(.exportUnavailable)
        /// The archive file is gone or has another size than recorded.
        public static let archiveMissing = Code(.archiveMissing)
        /// A copied archive's size or SHA-256 differs from the recorded one.
        public static let integrityMismatch = Code(.integrityMismatch)
        /// Object storage refused or failed an upload, download or delete of an archive.
        public static let archiveStorage = Code(.archiveStorage)

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

    static func invalidOptions(_ message: String) -> ExportJobError {
        ExportJobError(.invalidOptions, message)
    }

    static func notFound(_ what: String) -> ExportJobError {
        ExportJobError(.notFound, "\(what) does not exist; check the id with `pixcrawl status` or `pixcrawl export list`")
    }

    static func notClaimable(exportID: Int64, status: String) -> ExportJobError {
        ExportJobError(
            .notClaimable,
            "export \(exportID) is \(status), not pending: another process may be running it; "
                + "follow it with `pixcrawl export list`")
    }

    static func leaseLost(exportID: Int64) -> ExportJobError {
        ExportJobError(
            .leaseLost,
            "export \(exportID) was taken over by another process (this one stopped renewing its lease in time); "
                + "its archive was discarded here")
    }

    static func blobUnavailable(imageID: Int64, blob: String, reason: String) -> ExportJobError {
        ExportJobError(
            .blobUnavailable,
            "image \(imageID): its stored file \(blob) cannot be read (\(reason)); "
                + "restore the blob store or mark the image invalid, then export again")
    }

    static func unknownToken() -> ExportJobError {
        ExportJobError(.unknownToken, "unknown token: no download link has this token; check that it was copied whole")
    }

    static func tokenExpired(exportID: Int64, at date: String) -> ExportJobError {
        ExportJobError(
            .tokenExpired,
            "expired: this download link of export \(exportID) expired at \(date); "
                + "issue a fresh one with `pixcrawl export link \(exportID)` while the archive still exists")
    }

    static func exportUnavailable(exportID: Int64, status: String) -> ExportJobError {
        ExportJobError(
            .exportUnavailable,
            "export \(exportID) is \(status), so there is no archive to download; see `pixcrawl export list`")
    }

    static func archiveMissing(exportID: Int64, path: String, reason: String) -> ExportJobError {
        ExportJobError(
            .archiveMissing,
            "the archive of export \(exportID) at \(path) \(reason); run the export again")
    }

    static func integrityMismatch(exportID: Int64, detail: String) -> ExportJobError {
        ExportJobError(
            .integrityMismatch,
            "the copy of export \(exportID) does not match the recorded archive (\(detail)); the copy was removed. "
                + "The stored archive may be corrupted: run the export again")
    }

    static func io(_ detail: String) -> ExportJobError {
        ExportJobError(.archiveStorage, "archive storage failed: \(detail)")
    }
}
