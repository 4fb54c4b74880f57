import PixCore

/// Something a ``Worker`` did, for progress displays, metrics and tests.
public struct WorkerEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// The worker leased a chunk.
        case claimed
        /// A page of the chunk was committed with this checkpoint.
        case pageCommitted(ChunkCheckpoint)
        /// The worker is done with the chunk: this is how it ended, and whether it was released.
        case finished(ChunkOutcome, released: Bool)
    }

    /// The worker's id.
    public var workerID: String
    /// The chunk.
    public var chunkID: Int64
    /// The chunk's job.
    public var jobID: Int64
    /// The lease token of the claim.
    public var leaseToken: String
    /// What happened.
    public var kind: Kind

    /// Creates an event.
    public init(workerID: String, chunkID: Int64, jobID: Int64, leaseToken: String, kind: Kind) {
        self.workerID = workerID
        self.chunkID = chunkID
        self.jobID = jobID
        self.leaseToken = leaseToken
        self.kind = kind
    }
}
