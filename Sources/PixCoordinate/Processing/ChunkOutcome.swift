import PixStore

/// How the processing of one claimed chunk ended.
public enum ChunkOutcome: Sendable, Hashable {
    /// Every position was processed and the chunk is completed; `appendedChunks` top-up chunks were added.
    case completed(appendedChunks: Int)
    /// The job finished (target reached or cancelled) and the chunk with it; the work done so far is recorded.
    case jobFinished
    /// The lease was lost (expired and taken over, or the chunk was cancelled): the result was dropped.
    case leaseLost
    /// The worker asked the chunk to stop (graceful shutdown) after a committed page; the caller releases it.
    case stopped
    /// The attempt failed (the source failed); the chunk retries after a backoff or has failed for good.
    case failedAttempt(ChunkFailureOutcome)
    /// The provider or every candidate's host asked to be left alone: the chunk was given back to be claimed after
    /// this long, the attempt not counted.
    case deferred(Duration)
    /// The processing task was cancelled before it could commit its page.
    case cancelled
    /// The store could not be reached to record the page; the lease will expire and the chunk be retried.
    case storeUnavailable(String)

    /// True when the lease is still held by the caller and the chunk should be released.
    public var needsRelease: Bool {
        switch self {
        case .stopped, .cancelled: true
        default: false
        }
    }
}
