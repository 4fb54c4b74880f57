import Foundation

/// What `pixcrawl stats` shows: crawl activity in a time window, computed the same way on both engines.
public struct StatsReport: Sendable, Hashable, Codable {
    /// Images accepted in one hour.
    public struct HourCount: Sendable, Hashable, Codable {
        /// The start of the hour (UTC).
        public let hour: Date
        public let images: Int
    }

    /// Error records of one category.
    public struct CategoryCount: Sendable, Hashable, Codable {
        public let category: String
        public let count: Int
        /// `count` over all error records in the window (0…1).
        public let share: Double
    }

    /// A job with status `running`.
    public struct RunningJob: Sendable, Hashable, Codable {
        public let id: Int64
        public let name: String
        public let startedAt: Date?
        /// Seconds since `startedAt` (0 when it has not started yet).
        public let runningSeconds: Int64
    }

    /// One source's results in the window.
    public struct SourceCount: Sendable, Hashable, Codable {
        public let source: String
        /// Images accepted from it.
        public let accepted: Int
        /// Candidates rejected (error records with a URL, of its chunks).
        public let rejected: Int
        /// accepted / (accepted + rejected), when there was any candidate.
        public let successRate: Double?
        /// Mean `file_size` of its accepted images, in bytes.
        public let meanBytes: Double?
    }

    /// Error records of one host.
    public struct HostCount: Sendable, Hashable, Codable {
        public let host: String
        public let errors: Int
    }

    /// Images accepted in the last hour.
    public struct Throughput: Sendable, Hashable, Codable {
        public let images: Int
        public let bytes: Int64
        public let imagesPerMinute: Double
        public let bytesPerSecond: Double
    }

    /// The window's start (inclusive).
    public let windowStart: Date
    /// The window's end (exclusive): when the numbers were taken.
    public let windowEnd: Date
    /// Images accepted in the window.
    public let imagesAccepted: Int
    /// Per hour of the window, oldest first, hours without images included.
    public let imagesPerHour: [HourCount]
    /// Distinct keywords of the window's images.
    public let distinctKeywords: Int
    /// Distinct sources of the window's images.
    public let distinctSources: Int
    /// Error records in the window.
    public let errorsTotal: Int
    /// Error records by category, most frequent first.
    public let errorsByCategory: [CategoryCount]
    /// Jobs running now.
    public let runningJobs: [RunningJob]
    /// Per source, by accepted images (most first).
    public let sources: [SourceCount]
    /// Hosts with the most error records in the window.
    public let topFailingHosts: [HostCount]
    /// The hour before `windowEnd`.
    public let lastHour: Throughput
}
