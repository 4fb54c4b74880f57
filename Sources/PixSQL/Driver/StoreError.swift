/// An error from the store: constraint violations are typed so callers can react to them.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        case uniqueViolation
        case foreignKeyViolation
        case checkViolation
        case notNullViolation
        case notFound
        case connectionFailed
        case invalidConfiguration
        case migrationChecksumMismatch
        case migrationFailed
        case leaseLost
        case queryFailed
        case corruptRow
        case invalidInput
    }

    package let code: Code
    /// The constraint, table, file or field the error is about, when known.
    public let subject: String?
    /// Details a person can act on (never a password or a full connection string).
    public let detail: String

    package init(_ code: Code, subject: String? = nil, detail: String) {
        self.code = code
        self.subject = subject
        self.detail = detail
    }

    public var description: String { detail }

    /// A unique constraint (e.g. profile email, image sha256 per job) was violated.
    public static func uniqueViolation(constraint: String?, detail: String) -> StoreError {
        StoreError(.uniqueViolation, subject: constraint, detail: detail)
    }
    /// A foreign key points nowhere.
    public static func foreignKeyViolation(constraint: String?, detail: String) -> StoreError {
        StoreError(.foreignKeyViolation, subject: constraint, detail: detail)
    }
    /// A CHECK constraint (known statuses, progress 0–100, counts ≥ 0) refused the row.
    public static func checkViolation(constraint: String?, detail: String) -> StoreError {
        StoreError(.checkViolation, subject: constraint, detail: detail)
    }
    /// A NOT NULL column was given NULL.
    public static func notNullViolation(column: String?, detail: String) -> StoreError {
        StoreError(.notNullViolation, subject: column, detail: detail)
    }
    /// The requested row does not exist.
    public static func notFound(_ what: String) -> StoreError {
        StoreError(.notFound, subject: what, detail: "\(what) not found")
    }
    /// The database could not be reached or the connection broke.
    public static func connectionFailed(_ detail: String) -> StoreError {
        StoreError(.connectionFailed, detail: detail)
    }
    /// The store URL, schema name or path is unusable.
    public static func invalidConfiguration(_ detail: String) -> StoreError {
        StoreError(.invalidConfiguration, detail: detail)
    }
    /// An applied migration file was edited afterwards.
    public static func migrationChecksumMismatch(file: String) -> StoreError {
        StoreError(
            .migrationChecksumMismatch, subject: file,
            detail: "migration \(file) was changed after it was applied (checksum mismatch); "
                + "restore the original file and add a new migration instead")
    }
    /// A migration file failed to apply.
    public static func migrationFailed(file: String, reason: String) -> StoreError {
        StoreError(.migrationFailed, subject: file, detail: "migration \(file) failed: \(reason)")
    }
    /// The chunk's lease is no longer held by the caller: another worker owns it or it finished.
    public static func leaseLost(chunk: Int64) -> StoreError {
        StoreError(.leaseLost, subject: "chunk \(chunk)", detail: "lease on chunk \(chunk) was lost")
    }
    /// A statement failed for another reason.
    public static func queryFailed(operation: String, message: String) -> StoreError {
        StoreError(.queryFailed, subject: operation, detail: "\(operation) failed: \(message)")
    }
    /// A NOT NULL column came back NULL or unparsable.
    public static func corruptRow(column: String) -> StoreError {
        StoreError(.corruptRow, subject: column, detail: "unexpected NULL or malformed value in column \(column)")
    }
    /// The caller's input was refused before reaching the database; `field` names what is wrong.
    public static func invalidInput(field: String, reason: String) -> StoreError {
        StoreError(.invalidInput, subject: field, detail: "\(field): \(reason)")
    }

    public var isUniqueViolation: Bool { code == .uniqueViolation }
    public var isForeignKeyViolation: Bool { code == .foreignKeyViolation }
    public var isCheckViolation: Bool { code == .checkViolation }
    public var isNotNullViolation: Bool { code == .notNullViolation }
    public var isNotFound: Bool { code == .notFound }
    public var isConnectionFailure: Bool { code == .connectionFailed }
    public var isLeaseLost: Bool { code == .leaseLost }
    public var isMigrationChecksumMismatch: Bool { code == .migrationChecksumMismatch }
    public var isInvalidConfiguration: Bool { code == .invalidConfiguration }
    public var isInvalidInput: Bool { code == .invalidInput }

    /// Two errors are the same kind (used by tests and callers that match on kind only).
    public func isSameKind(as other: StoreError) -> Bool { code == other.code }
}
