/// Lifecycle of a crawl job. A job is `planning` while a large plan's chunks are written in batches: none of
/// them is claimable until the last batch commits and the job becomes `pending`.
public enum JobStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case planning, pending, running, completed, failed, cancelled

    /// True when the job will not change any more.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// Lifecycle of a keyword chunk.
public enum ChunkStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case pending, active, completed, failed, cancelled
}

/// Lifecycle of a project.
public enum ProjectStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case active, archived, deleted
}

/// A profile's role.
public enum ProfileRole: String, Sendable, Codable, CaseIterable, Hashable {
    case user, admin, moderator
}

/// Lifecycle of an export job.
public enum ExportStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case pending, running, completed, failed, expired
}

/// Lifecycle of a validation job.
public enum ValidationJobStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case pending, running, completed, failed
}

/// What a worker process reports about itself.
public enum WorkerStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case running, stopping, stopped
}
