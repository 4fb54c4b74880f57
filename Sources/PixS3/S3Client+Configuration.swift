import PixCore

extension S3Client {
    /// Tunables of an ``S3Client``: multipart thresholds, timeouts and retries.
    public struct Configuration: Sendable {
        /// Files larger than this many bytes are uploaded in parts. Default 64 MiB.
        public var multipartThreshold: Int64
        /// Size of each uploaded part. Default 16 MiB; never below S3's 5 MiB minimum, and raised when a file
        /// would need more than 10,000 parts.
        public var partSize: Int64
        /// Whether file uploads carry the SHA-256 of their content (read once more before sending), so the
        /// server verifies the bytes it stored. When false they are sent as `UNSIGNED-PAYLOAD`. In-memory
        /// uploads are always signed.
        public var signsFilePayloads: Bool
        /// How long establishing a connection may take. Default 10 s.
        public var connectTimeout: Duration
        /// A transfer slower than this many bytes per second for ``lowSpeedTime`` is aborted (and retried when
        /// the request is idempotent). 0 turns the check off. Default 1 KiB/s.
        public var lowSpeedLimit: Int
        /// See ``lowSpeedLimit``. Default 30 s.
        public var lowSpeedTime: Duration
        /// An upper bound on one request, when set. Default none (large uploads take as long as they take).
        public var requestTimeout: Duration?
        /// Attempts for an idempotent request that meets a 5xx or 429 answer or a connection failure. Default 4.
        public var maxAttempts: Int
        /// Delay before the first retry; it doubles with each further one (with jitter). Default 200 ms.
        public var retryDelay: Duration
        /// The longest delay between retries. Default 5 s.
        public var maxRetryDelay: Duration
        /// A proxy URL for libcurl, or nil to connect directly (the environment's `*_proxy` variables are ignored).
        public var proxy: String?
        /// The `User-Agent` header.
        public var userAgent: String
        /// Idle easy handles (and their open connections) kept for reuse. Default 8.
        public var idleHandles: Int

        /// S3's smallest part size (except for the last part): 5 MiB.
        public static let minimumPartSize: Int64 = 5 * 1024 * 1024

        /// The defaults.
        public init() {
            multipartThreshold = 64 * 1024 * 1024
            partSize = 16 * 1024 * 1024
            signsFilePayloads = true
            connectTimeout = .seconds(10)
            lowSpeedLimit = 1024
            lowSpeedTime = .seconds(30)
            requestTimeout = nil
            maxAttempts = 4
            retryDelay = .milliseconds(200)
            maxRetryDelay = .seconds(5)
            proxy = nil
            userAgent = "PixCrawler/\(PixCrawlVersion.current) S3"
            idleHandles = 8
        }

        /// The part size for a file of `size` bytes: ``partSize``, at least 5 MiB, at most 10,000 parts.
        func partSize(forFileOf size: Int64) -> Int64 {
            let minimumForCount = (size + 9_999) / 10_000
            return max(partSize, Self.minimumPartSize, minimumForCount)
        }
    }
}
