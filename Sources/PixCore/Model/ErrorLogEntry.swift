import Foundation

/// A categorized error record: every rejected candidate and failed operation has one.
public struct ErrorLogEntry: Sendable, Codable, Hashable, Identifiable {
    public var id: Int64
    public var jobID: Int64?
    public var chunkID: Int64?
    public var category: ErrorCategory
    public var severity: ErrorSeverity
    public var message: String
    public var url: String?
    /// JSON object with details (HTTP status, reason, …).
    public var context: [String: String]
    public var createdAt: Date

    public init(
        id: Int64, jobID: Int64?, chunkID: Int64?, category: ErrorCategory, severity: ErrorSeverity, message: String,
        url: String?, context: [String: String], createdAt: Date
    ) {
        self.id = id
        self.jobID = jobID
        self.chunkID = chunkID
        self.category = category
        self.severity = severity
        self.message = message
        self.url = url
        self.context = context
        self.createdAt = createdAt
    }
}

/// An error record to write.
public struct NewErrorLog: Sendable, Hashable {
    public var jobID: Int64?
    public var chunkID: Int64?
    public var category: ErrorCategory
    public var severity: ErrorSeverity
    public var message: String
    public var url: String?
    public var context: [String: String]

    public init(
        jobID: Int64?, chunkID: Int64? = nil, category: ErrorCategory, severity: ErrorSeverity = .error,
        message: String, url: String? = nil, context: [String: String] = [:]
    ) {
        self.jobID = jobID
        self.chunkID = chunkID
        self.category = category
        self.severity = severity
        self.message = message
        self.url = url
        self.context = context
    }
}
