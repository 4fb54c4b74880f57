/// Why a candidate image, a chunk or an operation failed; every rejection carries exactly one.
public enum ErrorCategory: String, Sendable, Codable, CaseIterable, Hashable {
    case network = "NETWORK"
    case httpStatus = "HTTP_STATUS"
    case rateLimit = "RATE_LIMIT"
    case robots = "ROBOTS"
    case tooLarge = "TOO_LARGE"
    case format = "FORMAT"
    case decode = "DECODE"
    case dimensions = "DIMENSIONS"
    case duplicate = "DUPLICATE"
    case storage = "STORAGE"
    case database = "DATABASE"
    /// The URL was refused before any connection: a private, loopback or otherwise blocked address.
    case blocked = "BLOCKED"
    /// The source (search API) itself failed for a chunk.
    case source = "SOURCE"
    /// The downloaded bytes do not match the SHA-256 a URL list gave for the row.
    case hashMismatch = "HASH_MISMATCH"
}

/// How serious an error log entry is.
public enum ErrorSeverity: String, Sendable, Codable, CaseIterable, Hashable {
    case info
    case warning
    case error
    case critical
}
